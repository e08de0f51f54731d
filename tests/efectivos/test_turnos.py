"""Duty (#30): shifts, signing on and off, and readings taken off duty not stored."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from efectivos.models import EstadoEfectivo, Posicion, Rol, Turno
from seguridad.models import FuenteSos, Sos
from tareas.models import Asignacion, EstadoAsignacion, EstadoTarea
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, EfectivoFactory, TareaFactory, UsuarioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def libre(unidad_a):
    """An officer with no shift at all: off duty."""
    usuario = UsuarioFactory(username="libre", rol=Rol.EFECTIVO)
    return EfectivoFactory(usuario=usuario, unidad=unidad_a, turno=False)


def _reportar(efectivo, **extra):
    return cliente_jwt(efectivo.usuario).post(
        "/api/v1/posiciones/",
        {
            "id_cliente": str(uuid.uuid4()),
            "lat": CENTRO[1],
            "lon": CENTRO[0],
            "registrada_en": timezone.now().isoformat(),
            **extra,
        },
        format="json",
    )


def test_una_lectura_fuera_de_servicio_se_descarta_con_un_2xx_y_se_cuenta(libre):
    from posiciones import metrics

    contador = metrics.FUERA_DE_SERVICIO.labels(fuente="api")
    antes = contador._value.get()
    r = _reportar(libre)
    assert r.status_code == 201, r.content
    assert r.json()["aceptadas"] == 0 and r.json()["fuera_de_servicio"] == 1 and r.json()["duplicadas"] == 0
    assert not Posicion.objects.filter(efectivo=libre).exists()
    assert contador._value.get() == antes + 1


def test_con_un_sos_activo_o_una_tarea_abierta_se_guardan(libre):
    sos = Sos.objects.create(efectivo=libre, fuente=FuenteSos.API)
    assert _reportar(libre).json()["aceptadas"] == 1
    Sos.objects.filter(pk=sos.pk).update(estado="resuelto")
    assert _reportar(libre).json()["fuera_de_servicio"] == 1
    tarea = TareaFactory(unidad=libre.unidad, estado=EstadoTarea.EN_CURSO)
    Asignacion.objects.create(tarea=tarea, efectivo=libre, estado=EstadoAsignacion.ACEPTADA)
    assert _reportar(libre).json()["aceptadas"] == 1
    tarea.estado = EstadoTarea.FINALIZADA
    tarea.save(update_fields=["estado"])
    assert _reportar(libre).json()["fuera_de_servicio"] == 1
    assert Posicion.objects.filter(efectivo=libre).count() == 2


def test_inicio_y_fin_de_servicio_dentro_de_la_tolerancia(libre, settings):
    settings.TURNO_TOLERANCIA_MIN = 15
    c = cliente_jwt(libre.usuario)
    ahora = timezone.now()
    # A shift starting in 40 minutes: too early to sign on (409, naming it).
    turno = Turno.objects.create(efectivo=libre, inicio=ahora + timedelta(minutes=40), fin=ahora + timedelta(hours=8))
    r = c.post("/api/v1/yo/servicio/", {"accion": "inicio"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["codigo"] == "fuera_de_turno", r.content
    assert r.json()["error"]["detalle"]["proximo_turno"] and r.json()["error"]["detalle"]["tolerancia_min"] == 15
    assert _reportar(libre).json()["fuera_de_servicio"] == 1
    # Starting in 10 minutes: within the tolerance. From now on their readings are stored.
    Turno.objects.filter(pk=turno.pk).update(inicio=ahora + timedelta(minutes=10))
    r = c.post("/api/v1/yo/servicio/", {"accion": "inicio"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["en_servicio"] is True and r.json()["turno"]["inicio_real"]
    assert _reportar(libre).json()["aceptadas"] == 1
    again = c.post("/api/v1/yo/servicio/", {"accion": "inicio"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["codigo"] == "ya_en_servicio"
    assert c.get("/api/v1/yo/").json()["en_servicio"] is True
    # Signing off: off duty, "fuera de servicio", readings discarded again.
    r = c.post("/api/v1/yo/servicio/", {"accion": "fin"}, format="json")
    assert r.status_code == 200 and r.json()["en_servicio"] is False and r.json()["estado"] == "fuera_servicio"
    assert _reportar(libre).json()["fuera_de_servicio"] == 1
    otra = c.post("/api/v1/yo/servicio/", {"accion": "fin"}, format="json")
    assert otra.status_code == 409 and otra.json()["error"]["codigo"] == "no_en_servicio"
    assert c.post("/api/v1/yo/servicio/", {"accion": "pausa"}, format="json").status_code == 400


def test_durante_el_turno_del_cuadro_esta_en_servicio_sin_firmar(libre):
    ahora = timezone.now()
    Turno.objects.create(efectivo=libre, inicio=ahora - timedelta(hours=1), fin=ahora + timedelta(hours=7))
    assert _reportar(libre).json()["aceptadas"] == 1
    # A reading taken before the shift, sent now (a phone's backlog): not stored.
    viejo = (ahora - timedelta(hours=2)).isoformat()
    assert _reportar(libre, registrada_en=viejo).json()["fuera_de_servicio"] == 1


def test_los_turnos_no_se_superponen(libre):
    ahora = timezone.now()
    Turno.objects.create(efectivo=libre, inicio=ahora, fin=ahora + timedelta(hours=8))
    encima = Turno(efectivo=libre, inicio=ahora + timedelta(hours=7), fin=ahora + timedelta(hours=15))
    with pytest.raises(ValidationError) as exc:
        encima.full_clean()
    assert "se superpone" in str(exc.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        encima.save()
    al_reves = Turno(efectivo=libre, inicio=ahora + timedelta(hours=20), fin=ahora + timedelta(hours=19))
    with pytest.raises(ValidationError):
        al_reves.full_clean()
    Turno.objects.create(
        efectivo=libre, inicio=ahora + timedelta(hours=8), fin=ahora + timedelta(hours=16)
    )  # back to back


def test_el_cuadro_se_importa_de_un_csv_todo_o_nada(libre, comandante_a, unidad_b):
    from efectivos import turnos

    otro = EfectivoFactory(unidad=unidad_b, turno=False)
    bueno = (
        "codigo_interno,inicio,fin,funcion\n"
        f"{libre.codigo_interno},07/12/2030 06:00,07/12/2030 18:00,Chofer\n"
        f"{libre.codigo_interno},2030-12-08T06:00,2030-12-08T18:00,\n"
    )
    hecho = turnos.turnos_importar(contenido=bueno.encode(), usuario=comandante_a)
    assert hecho.creados == 2
    primero = Turno.objects.filter(efectivo=libre).order_by("inicio").first()
    assert timezone.localtime(primero.inicio).hour == 6 and primero.funcion == "Chofer"  # the agency's zone
    assert primero.creado_por == comandante_a
    malo = (
        "codigo_interno,inicio,fin,funcion\n"
        f"{libre.codigo_interno},10/12/2030 06:00,10/12/2030 18:00,\n"  # fine alone
        f"{libre.codigo_interno},07/12/2030 12:00,07/12/2030 20:00,\n"  # overlaps a stored one
        f"{otro.codigo_interno},10/12/2030 06:00,10/12/2030 18:00,\n"  # another unidad's
        f"{libre.codigo_interno},mañana,10/12/2030 18:00,\n"
        f"{libre.codigo_interno},11/12/2030 18:00,11/12/2030 06:00,\n"
    )
    with pytest.raises(Exception) as exc:
        turnos.turnos_importar(contenido=malo.encode(), usuario=comandante_a)
    errores = exc.value.detalle["errores"]
    assert [e.split(":")[0] for e in errores] == ["línea 4", "línea 5", "línea 6", "línea 3"], errores
    assert Turno.objects.filter(efectivo=libre).count() == 2  # nothing of the bad file
    with pytest.raises(Exception, match="Encabezado"):
        turnos.turnos_importar(contenido=b"a,b\n1,2\n", usuario=comandante_a)


def test_el_admin_importa_el_cuadro(admin, libre):
    c = Client()
    c.force_login(admin)
    assert "Importar CSV" in c.get("/admin/efectivos/turno/").content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    archivo = SimpleUploadedFile(
        "turnos.csv",
        f"codigo_interno,inicio,fin,funcion\n{libre.codigo_interno},07/12/2030 06:00,07/12/2030 18:00,\n".encode(),
    )
    r = c.post("/admin/efectivos/turno/importar/", {"archivo": archivo})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Turno.objects.filter(efectivo=libre).count() == 1
    libre.refresh_from_db()
    assert libre.estado == EstadoEfectivo.DISPONIBLE
