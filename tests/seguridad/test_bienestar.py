"""Welfare check-ins: the cadence, its answers (app, bot, a fresh fix when allowed), the factors
that tighten it, a miss warning command, two in a row raising an SOS with backup, and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from efectivos.models import Rol
from geocercas.models import Presencia
from realtime.models import Evento
from seguridad.models import ControlBienestar, EstadoBienestar, FuenteSos, Sos
from seguridad.services import bienestar_revisar
from seguridad.services.bienestar import intervalo_vigente
from tareas.models import Asignacion, EstadoAsignacion, TipoTarea
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, TareaFactory, UsuarioFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db


def _iniciar(api, usuario, **cuerpo):
    return api(usuario).post("/api/v1/bienestar/", cuerpo, format="json")


def test_el_ciclo_pedido_respuesta_y_el_tablero(api, comandante_a, efectivo, settings):
    settings.BIENESTAR_FACTOR_NOCHE_SOLO = 1  # the test runs at any hour
    r = _iniciar(api, comandante_a, efectivo=efectivo.pk, intervalo_min=20)
    assert r.status_code == 201, r.json()
    control = ControlBienestar.objects.get()
    ahora = timezone.now()
    assert control.proximo_en == pytest.approx(ahora + timedelta(minutes=20), abs=timedelta(seconds=5))
    assert bienestar_revisar(ahora=ahora)["pedidos"] == 0  # not yet
    assert bienestar_revisar(ahora=ahora + timedelta(minutes=21))["pedidos"] == 1
    pedido = Evento.objects.get(tipo="bienestar.pedido")
    assert set(pedido.audiencia) == {"rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"}
    assert pedido.datos["estado"] == "pedido" and pedido.datos["vence_en"]
    tablero = api(comandante_a).get("/api/v1/bienestar/").json()["results"]
    assert [(c["efectivo"], c["estado"]) for c in tablero] == [(efectivo.pk, "pedido")]
    assert [c["estado"] for c in api(efectivo.usuario).get("/api/v1/mi-bienestar/").json()] == ["pedido"]

    r = api(efectivo.usuario).post("/api/v1/mi-bienestar/")
    assert r.status_code == 200 and r.json()["estado"] == "al_dia"
    control.refresh_from_db()
    assert (control.respuestas, control.fallos_seguidos, control.ultima_via, control.pedido_en) == (1, 0, "campo", None)
    # Answered: the deadline passing changes nothing.
    assert bienestar_revisar(ahora=ahora + timedelta(minutes=30))["fallos"] == 0


def test_dos_fallos_seguidos_activan_un_sos_con_refuerzo(api, comandante_a, efectivo, unidad_a, settings):
    settings.BIENESTAR_FACTOR_NOCHE_SOLO = 1
    settings.BIENESTAR_PLAZO_MIN = 5
    cerca = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=200), srid=4326))
    _iniciar(api, comandante_a, efectivo=efectivo.pk, intervalo_min=20)
    t0 = timezone.now() + timedelta(minutes=21)
    assert bienestar_revisar(ahora=t0)["pedidos"] == 1
    primero = bienestar_revisar(ahora=t0 + timedelta(minutes=6))
    assert (primero["fallos"], primero["sos"], primero["pedidos"]) == (1, 0, 1)  # missed: asked again at once
    fallo = Evento.objects.filter(tipo="bienestar.estado", datos__estado="fallido").get()
    assert fallo.datos["fallos_seguidos"] == 1 and fallo.datos["sos_id"] is None
    assert Sos.objects.count() == 0
    segundo = bienestar_revisar(ahora=t0 + timedelta(minutes=12))
    assert (segundo["fallos"], segundo["sos"]) == (1, 1)
    sos = Sos.objects.get()
    assert (sos.efectivo_id, sos.fuente, sos.estado) == (efectivo.pk, FuenteSos.BIENESTAR, "activo")
    assert list(Asignacion.objects.filter(tarea=sos.tarea).values_list("efectivo_id", flat=True)) == [cerca.pk]
    control = ControlBienestar.objects.get()
    assert (control.fallos_seguidos, control.sos_id, control.estado) == (2, sos.pk, EstadoBienestar.FALLIDO)
    # A third miss does not raise another SOS; the answer clears the streak.
    assert bienestar_revisar(ahora=t0 + timedelta(minutes=18))["sos"] == 0
    api(efectivo.usuario).post("/api/v1/mi-bienestar/")
    control.refresh_from_db()
    assert (control.fallos_seguidos, control.fallos, control.estado) == (0, 3, EstadoBienestar.AL_DIA)


def test_una_posicion_fresca_cuenta_solo_si_la_agencia_lo_permite(api, comandante_a, efectivo, settings):
    settings.BIENESTAR_FACTOR_NOCHE_SOLO = 1
    _iniciar(api, comandante_a, efectivo=efectivo.pk, intervalo_min=10)
    t0 = timezone.now() + timedelta(minutes=11)
    settings.BIENESTAR_POSICION_CUENTA = False
    assert bienestar_revisar(ahora=t0)["pedidos"] == 1
    type(efectivo).objects.filter(pk=efectivo.pk).update(ultima_posicion_en=t0 + timedelta(minutes=1))
    settings.BIENESTAR_POSICION_CUENTA = True
    r = bienestar_revisar(ahora=t0 + timedelta(minutes=6))
    assert (r["por_posicion"], r["fallos"]) == (1, 0)
    assert ControlBienestar.objects.get().ultima_via == "posicion"


def test_el_intervalo_se_acorta_en_zona_restringida_en_emergencia_y_solo_de_noche(comandante_a, efectivo, settings):
    from seguridad.services import bienestar_iniciar

    settings.BIENESTAR_NOCHE_DESDE, settings.BIENESTAR_NOCHE_HASTA = 22, 6
    [control] = bienestar_iniciar(usuario=comandante_a, intervalo_min=40, efectivo_id=efectivo.pk)
    mediodia = timezone.localtime().replace(hour=12, minute=0)
    noche = mediodia.replace(hour=23)
    assert intervalo_vigente(control, mediodia) == (40, [])
    assert intervalo_vigente(control, noche) == (20, ["noche_solo"])
    EfectivoFactory(
        unidad=efectivo.unidad,
        ultima_posicion=Point(*desplazar(*CENTRO, este_m=50), srid=4326),
        ultima_posicion_en=noche,
    )
    assert intervalo_vigente(control, noche) == (40, [])  # not alone: a partner 50 m away
    cerca = GeocercaFactory(tipo="restringida", geom=cuadrado(lado_m=200))
    Presencia.objects.create(efectivo=efectivo, geocerca=cerca, dentro=True, desde=timezone.now())
    tarea = TareaFactory(unidad=efectivo.unidad, tipo=TipoTarea.EMERGENCIA, estado="asignada")
    Asignacion.objects.create(tarea=tarea, efectivo=efectivo, estado=EstadoAsignacion.ACEPTADA)
    assert intervalo_vigente(control, mediodia) == (10, ["restringida", "emergencia"])
    settings.BIENESTAR_FACTOR_EMERGENCIA = 1  # each factor can be turned off
    assert intervalo_vigente(control, mediodia) == (20, ["restringida"])


def test_para_una_tarea_y_para_una_unidad(api, comandante_a, efectivo, unidad_a):
    otro = EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol=Rol.EFECTIVO))
    EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol=Rol.EFECTIVO), estado="fuera_servicio")
    tarea = TareaFactory(unidad=unidad_a, estado="asignada")
    Asignacion.objects.create(tarea=tarea, efectivo=otro, estado=EstadoAsignacion.PENDIENTE)
    r = _iniciar(api, comandante_a, tarea=tarea.pk, intervalo_min=15)
    assert [c["efectivo"] for c in r.json()] == [otro.pk]
    r = _iniciar(api, comandante_a, unidad=unidad_a.pk, intervalo_min=30)
    assert sorted(c["efectivo"] for c in r.json()) == sorted([efectivo.pk, otro.pk])  # off duty: not included
    assert ControlBienestar.objects.filter(terminado_en__isnull=True).count() == 2  # one cadence each
    assert ControlBienestar.objects.get(efectivo=otro).intervalo_min == 30
    c = ControlBienestar.objects.get(efectivo=efectivo)
    assert api(comandante_a).post(f"/api/v1/bienestar/{c.pk}/terminar/").json()["estado"] == "terminado"
    assert api(comandante_a).post(f"/api/v1/bienestar/{c.pk}/terminar/").status_code == 409
    assert api(efectivo.usuario).post("/api/v1/mi-bienestar/").status_code == 409
    assert api(efectivo.usuario).get("/api/v1/mi-bienestar/").json() == []


@pytest.mark.parametrize(
    "cuerpo, estado",
    [
        ({"intervalo_min": 0.5}, 400),
        ({"intervalo_min": 1441}, 400),
        ({"intervalo_min": "20"}, 400),
        ({"intervalo_min": 20}, 400),  # for nobody
        ({"intervalo_min": 20, "efectivo": 1, "unidad": 1}, 400),
    ],
)
def test_cadencias_invalidas_4xx(api, comandante_a, efectivo, cuerpo, estado):
    cuerpo = {k: (efectivo.pk if k == "efectivo" else v) for k, v in cuerpo.items()}
    r = _iniciar(api, comandante_a, **cuerpo)
    assert r.status_code == estado, r.json()
    assert "error" in r.json()
    assert ControlBienestar.objects.count() == 0


def test_fuera_de_alcance_4xx(api, comandante_b, comandante_a, efectivo, unidad_b):
    assert _iniciar(api, comandante_b, efectivo=efectivo.pk, intervalo_min=20).status_code == 404
    assert _iniciar(api, comandante_a, unidad=unidad_b.pk, intervalo_min=20).status_code == 403
    assert _iniciar(api, efectivo.usuario, efectivo=efectivo.pk, intervalo_min=20).status_code == 403
    assert ControlBienestar.objects.count() == 0


def test_un_sos_reenviado_desde_la_cola_es_uno_solo(api, efectivo):
    import uuid

    cliente = api(efectivo.usuario)
    id_cliente = str(uuid.uuid4())
    a = cliente.post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0], "id_cliente": id_cliente}, format="json")
    b = cliente.post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0], "id_cliente": id_cliente}, format="json")
    assert (a.status_code, b.status_code, a.json()["id"]) == (201, 200, b.json()["id"])
    cliente.post(f"/api/v1/sos/{a.json()['id']}/resolver/", {"nota": "falsa alarma"}, format="json")
    c = cliente.post("/api/v1/sos/", {"id_cliente": id_cliente}, format="json")  # replayed after resolving
    assert c.status_code == 200 and c.json()["estado"] == "resuelto"
    assert Sos.objects.count() == 1
    assert Evento.objects.filter(tipo="sos.activado").count() == 1
