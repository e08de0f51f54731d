"""The audit trail: every write through the API, the map, the admin and the bot is recorded with
who (role, unidad), what (before → after), when and from where; sensitive reads too; the hash
chain names the first record altered or deleted behind its back."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from auditoria import services
from auditoria.models import Registro
from efectivos.models import Efectivo
from gad_project.cifrado import indice
from geocercas.models import Geocerca
from tareas.models import Tarea
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, GeocercaFactory, TareaFactory, cuadrado

pytestmark = pytest.mark.django_db


def de(modelo, pk) -> list[Registro]:
    return list(
        Registro.objects.filter(content_type=ContentType.objects.get_for_model(modelo), object_pk=str(pk)).order_by(
            "secuencia"
        )
    )


def test_una_tarea_creada_por_la_api_queda_con_quien_rol_unidad_e_ip(comandante_a, unidad_a):
    r = cliente_jwt(comandante_a).post(
        "/api/v1/tareas/",
        {"titulo": "Corte", "tipo": "patrullaje", "prioridad": 3, "lat": CENTRO[1], "lon": CENTRO[0]},
        format="json",
        REMOTE_ADDR="10.1.2.3",
    )
    assert r.status_code == 201, r.content
    [alta, *_] = de(Tarea, r.json()["id"])
    assert alta.action == Registro.Action.CREATE
    assert (alta.actor, alta.rol, alta.unidad_id, alta.interfaz) == (comandante_a, "comandante", unidad_a.pk, "api")
    assert alta.remote_addr == "10.1.2.3"
    assert alta.changes["titulo"] == ["None", "Corte"]


def test_lo_que_hace_el_mapa_con_su_sesion_figura_como_mapa(comandante_a, unidad_a):
    c = Client()
    c.force_login(comandante_a)
    r = c.post(
        "/api/v1/tareas/",
        {"titulo": "Desde el mapa", "tipo": "patrullaje", "prioridad": 2},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert de(Tarea, r.json()["id"])[0].interfaz == "mapa"


def test_un_cambio_en_el_admin_guarda_antes_y_despues(admin):
    g = GeocercaFactory(nombre="Vieja", geom=cuadrado(lado_m=100))
    c = Client()
    c.force_login(admin)
    datos = {
        "nombre": "Nueva",
        "descripcion": "",
        "tipo": g.tipo,
        "severidad": g.severidad,
        "histeresis_m": "15",
        "confirmar_lecturas": "1",
        "entrada_min_s": "0",
        "escalar": "on",
        "activa": "on",
        "horario_dias": "",
        "geom": g.geom.geojson,
        "ruta": "",
    }
    r = c.post(reverse("admin:geocercas_geocerca_change", args=[g.pk]), datos)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    cambio = [x for x in de(Geocerca, g.pk) if x.action == Registro.Action.UPDATE and "nombre" in x.changes][-1]
    assert cambio.changes["nombre"] == ["Vieja", "Nueva"]
    assert (cambio.actor, cambio.interfaz, cambio.rol) == (admin, "admin", "administrador")


@pytest.mark.django_db(transaction=True)  # the bot's wrapper opens its own connections
def test_lo_que_hace_el_bot_figura_con_la_cuenta_de_telegram(efectivo):
    from telegram_bot import acciones, bot

    efectivo.usuario.telegram_id = 551100
    efectivo.usuario.save(update_fields=["telegram_id"])
    respuesta, estado = async_to_sync(bot._db(acciones.estado_cambiar))(551100, "no_disponible")
    assert estado == "no_disponible", respuesta
    [cambio] = [x for x in de(Efectivo, efectivo.pk) if x.action == Registro.Action.UPDATE]
    assert cambio.changes["estado"] == ["disponible", "no_disponible"]
    assert (cambio.actor, cambio.interfaz, cambio.additional_data) == (
        efectivo.usuario,
        "telegram",
        {"telegram": indice(551100)},  # never the id in clear: it is encrypted at rest
    )


def test_ver_un_recorrido_o_exportarlo_queda_registrado(comandante_a, efectivo):
    c = cliente_jwt(comandante_a)
    assert c.get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?horas=2&motivo=supervision").status_code == 200
    [lectura] = [x for x in de(Efectivo, efectivo.pk) if x.action == Registro.Action.ACCESS]
    assert lectura.actor == comandante_a and lectura.additional_data["lectura"] == "recorrido"
    assert "desde" in lectura.additional_data
    r = c.get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={efectivo.pk}&motivo=supervision")
    b"".join(r)
    exporte = Registro.objects.filter(
        action=Registro.Action.ACCESS, additional_data__lectura="exporte de recorridos"
    ).get()
    assert exporte.actor == comandante_a and exporte.additional_data["efectivos"] == [efectivo.pk]


def test_las_lecturas_de_posicion_no_se_auditan_una_por_una(efectivo):
    antes = Registro.objects.count()
    r = cliente_jwt(efectivo.usuario).post(
        "/api/v1/posiciones/",
        {
            "id_cliente": str(uuid.uuid4()),
            "lat": CENTRO[1],
            "lon": CENTRO[0],
            "registrada_en": timezone.now().isoformat(),
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert Registro.objects.count() == antes


def _alterar(sql: str, params: list) -> None:
    """What someone with database access could do behind the application's back."""
    with connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks: ALTER may run
        c.execute("ALTER TABLE auditoria_registro DISABLE TRIGGER auditoria_inmutable")
        c.execute(sql, params)
        c.execute("ALTER TABLE auditoria_registro ENABLE TRIGGER auditoria_inmutable")


def _sellar_al_escribir() -> None:
    """Records are sealed when their transaction commits; a test's transaction never does, so the
    deferred sealing runs at each statement instead."""
    with connection.cursor() as c:
        c.execute("SET CONSTRAINTS auditoria_encadenar IMMEDIATE")


def _cinco_registros() -> list[Registro]:
    _sellar_al_escribir()
    for i in range(5):
        TareaFactory(titulo=f"T{i}")
    return list(Registro.objects.order_by("secuencia"))


def test_la_cadena_nombra_el_primer_registro_alterado(capsys):
    registros = _cinco_registros()
    call_command("auditoria_verificar")
    assert f"Cadena íntegra: {len(registros)} registros." in capsys.readouterr().out
    victima = registros[2]
    _alterar("UPDATE auditoria_registro SET object_repr = 'otra cosa' WHERE id = %s", [victima.pk])
    with pytest.raises(CommandError, match=f"registro {victima.pk}: su contenido no coincide"):
        call_command("auditoria_verificar")


def test_la_cadena_nota_un_registro_borrado():
    registros = _cinco_registros()
    _alterar("DELETE FROM auditoria_registro WHERE id = %s", [registros[1].pk])
    v = services.cadena_verificar()
    assert v.roto_id == registros[2].pk and "borrado" in v.motivo


def test_un_registro_sin_sellar_no_cuenta_y_al_confirmar_se_sella():
    TareaFactory(titulo="Pendiente")
    assert Registro.objects.filter(secuencia__isnull=True).exists()  # not committed yet
    _sellar_al_escribir()  # what COMMIT does
    assert not Registro.objects.filter(secuencia__isnull=True).exists()
    assert services.cadena_verificar().roto_id is None


def test_la_aplicacion_no_puede_modificar_ni_borrar_registros():
    [r, *_] = _cinco_registros()
    for sql in (
        "UPDATE auditoria_registro SET object_repr = 'x' WHERE id = %s",
        "DELETE FROM auditoria_registro WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="solo agregado"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [r.pk])


def test_la_retencion_borra_lo_viejo_y_la_cadena_sigue_verificando():
    _sellar_al_escribir()
    viejo = TareaFactory(titulo="Vieja")
    for i in range(3):
        Registro.objects.log_create(
            viejo, force_log=True, action=Registro.Action.ACCESS, timestamp=timezone.now() - timedelta(days=40 + i)
        )
    recientes = _cinco_registros()
    assert services.podar(dias=30) >= 3
    assert not Registro.objects.filter(timestamp__lt=timezone.now() - timedelta(days=30)).exists()
    assert services.cadena_verificar().roto_id is None
    assert Registro.objects.filter(pk=recientes[-1].pk).exists()


def test_solo_los_administradores_ven_la_auditoria(admin, comandante_a):
    TareaFactory()
    c = Client()
    c.force_login(admin)
    r = c.get(reverse("admin:auditoria_registro_changelist"))
    assert r.status_code == 200 and "registro" in r.content.decode().lower()
    comandante_a.is_staff = True
    comandante_a.save()
    c.force_login(comandante_a)
    assert c.get(reverse("admin:auditoria_registro_changelist")).status_code in (302, 403)


def test_lo_escrito_en_bloque_tambien_queda(comandante_a, unidad_a, efectivo):
    """Assigning (bulk_create and update: no model signals) and acknowledging in bulk are audited."""
    from django.contrib.gis.geos import Point

    from geocercas.models import Alerta
    from tareas.models import Asignacion
    from tests.factories import AlertaFactory

    Efectivo.objects.filter(pk=efectivo.pk).update(
        ultima_posicion=Point(*CENTRO, srid=4326), ultima_posicion_en=timezone.now()
    )
    tarea = TareaFactory(unidad=unidad_a)
    c = cliente_jwt(comandante_a)
    assert c.post(f"/api/v1/tareas/{tarea.pk}/asignar/", {"efectivos": [efectivo.pk]}, format="json").status_code == 200
    [asignacion] = Asignacion.objects.filter(tarea=tarea)
    [alta] = de(Asignacion, asignacion.pk)
    assert (
        alta.action == Registro.Action.CREATE
        and alta.actor == comandante_a
        and alta.changes["efectivo"] == ["None", str(efectivo.pk)]
    )
    [estado] = [r for r in de(Efectivo, efectivo.pk) if r.action == Registro.Action.UPDATE]
    assert estado.changes == {"estado": ["disponible", "en_tarea"]} and estado.actor == comandante_a
    # Cancelling releases the assignment: recorded with the state it really had.
    assert c.post(f"/api/v1/tareas/{tarea.pk}/cancelar/", {"motivo": "prueba"}, format="json").status_code == 200
    [liberada] = [x for x in de(Asignacion, asignacion.pk) if x.action == Registro.Action.UPDATE]
    assert liberada.changes["estado"] == ["pendiente", "liberada"] and liberada.actor == comandante_a

    alertas = [AlertaFactory(efectivo=efectivo, geocerca=GeocercaFactory()) for _ in range(2)]
    r = c.post("/api/v1/alertas/reconocer/", {"hasta_id": alertas[-1].pk}, format="json")
    assert r.status_code == 200, r.content
    for a in alertas:
        [cambio] = [x for x in de(Alerta, a.pk) if x.action == Registro.Action.UPDATE]
        assert cambio.changes["estado"] == ["pendiente", "reconocida"] and cambio.actor == comandante_a


def test_un_registro_en_bloque_fuera_de_contexto_no_hereda_el_actor_anterior(comandante_a, efectivo):
    """auditlog leaves its context variable set after a request: a later bulk entry in the same
    thread (a Celery task, a command) must not be attributed to that request's user."""
    from auditoria.registro import en_bloque

    c = cliente_jwt(comandante_a)
    assert (
        c.post("/api/v1/tareas/", {"titulo": "x", "tipo": "patrullaje", "prioridad": 2}, format="json").status_code
        == 201
    )
    en_bloque([efectivo], {"estado": ("disponible", "no_disponible")})
    [entrada] = [x for x in de(Efectivo, efectivo.pk) if x.action == Registro.Action.UPDATE]
    assert entrada.actor is None and entrada.interfaz == "sistema"


def test_quitar_los_registros_mas_nuevos_se_detecta_por_la_cabeza_anclada_fuera_de_la_base(settings, tmp_path, capsys):
    settings.AUDITORIA_ANCLAS = str(tmp_path / "anclas.log")
    registros = _cinco_registros()
    cabeza = services.cabeza_anclar()
    assert cabeza is not None and cabeza.secuencia == registros[-1].secuencia
    assert (tmp_path / "anclas.log").read_text().split()[1:] == [str(cabeza.secuencia), cabeza.hash]
    assert services.cadena_verificar().motivo == ""
    # The tail removed (the chain that remains is still internally whole).
    _alterar("DELETE FROM auditoria_registro WHERE secuencia >= %s", [registros[-2].secuencia])
    v = services.cadena_verificar()
    assert "faltan los registros más nuevos" in v.motivo and str(cabeza.secuencia) in v.motivo
    with pytest.raises(CommandError, match="faltan los registros más nuevos"):
        call_command("auditoria_verificar")


def test_el_rol_de_la_aplicacion_no_borra_ni_trunca_la_auditoria_y_poda_solo_por_la_funcion():
    """deploy/postgresql/roles.sql, applied as psql would, then the app's role tried."""
    import subprocess

    from tests.vivo import RAIZ

    _sellar_al_escribir()
    viejo = TareaFactory(titulo="Vieja")
    Registro.objects.log_create(
        viejo, force_log=True, action=Registro.Action.ACCESS, timestamp=timezone.now() - timedelta(days=40)
    )
    reciente = _cinco_registros()[-1]
    d = connection.settings_dict
    sql = (RAIZ / "deploy" / "postgresql" / "roles.sql").read_text()
    r = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", d["HOST"], "-p", str(d["PORT"]), "-U", d["USER"], d["NAME"]],
        input=sql,
        env={"PGPASSWORD": d["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    with connection.cursor() as c:
        c.execute("SET ROLE gad_app")
        try:
            for sentencia in (
                "DELETE FROM auditoria_registro",
                "TRUNCATE auditoria_registro",
                "DELETE FROM auditoria_ancla",
            ):
                with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                    c.execute(sentencia)
            with pytest.raises(DatabaseError, match="older than a day"), transaction.atomic():
                c.execute("SELECT auditoria_podar(now())")
            c.execute("SELECT auditoria_podar(now() - interval '30 days')")
            assert c.fetchone()[0] >= 1
        finally:
            c.execute("RESET ROLE")
    assert Registro.objects.filter(pk=reciente.pk).exists()
    assert services.cadena_verificar().roto_id is None
