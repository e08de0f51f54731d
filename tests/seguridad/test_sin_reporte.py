""" "Sin reporte": an efectivo in service who stops reporting raises one alert per silence, closed
when a fix arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.models import EstadoEfectivo
from realtime.models import Evento
from seguridad.models import SinReporte
from seguridad.services import sin_reporte_revisar
from tests.factories import EfectivoFactory

pytestmark = pytest.mark.django_db


def test_un_silencio_se_avisa_una_vez_y_se_cierra_al_volver_a_reportar(settings, api, comandante_a, unidad_a):
    settings.SIN_REPORTE_MIN = 10
    ahora = timezone.now()
    callado = EfectivoFactory(unidad=unidad_a, ultima_posicion_en=ahora - timedelta(minutes=11))
    EfectivoFactory(unidad=unidad_a, ultima_posicion_en=ahora - timedelta(minutes=9))  # still fine
    EfectivoFactory(
        unidad=unidad_a, ultima_posicion_en=ahora - timedelta(hours=3), estado=EstadoEfectivo.FUERA_SERVICIO
    )
    EfectivoFactory(unidad=unidad_a, ultima_posicion=None, ultima_posicion_en=None)  # never reported: no app

    assert sin_reporte_revisar(ahora=ahora) == (1, 0)
    assert sin_reporte_revisar(ahora=ahora + timedelta(seconds=30)) == (0, 0)  # once per silence
    aviso = SinReporte.objects.get()
    assert (aviso.efectivo_id, aviso.cerrado_en) == (callado.pk, None)
    evento = Evento.objects.get(tipo="sin_reporte.activado")
    assert evento.datos["efectivo_id"] == callado.pk and evento.datos["abierto"] is True
    assert evento.audiencia == sorted(["rol.administrador", f"unidad.{unidad_a.pk}", f"efectivo.{callado.pk}"])
    lista = api(comandante_a).get("/api/v1/sin-reporte/", {"abiertos": "true"}).json()
    assert [a["efectivo"] for a in lista["results"]] == [callado.pk]

    callado.ultima_posicion_en = ahora + timedelta(seconds=40)
    callado.save()
    assert sin_reporte_revisar(ahora=ahora + timedelta(seconds=50)) == (0, 1)
    aviso.refresh_from_db()
    assert aviso.cerrado_en is not None
    cerrado = Evento.objects.get(tipo="sin_reporte.cerrado")
    assert cerrado.datos["aviso_id"] == aviso.pk and cerrado.datos["abierto"] is False
    assert api(comandante_a).get("/api/v1/sin-reporte/", {"abiertos": "true"}).json()["count"] == 0

    # A new silence is a new alert (the one at -9 min has gone silent by then too).
    assert sin_reporte_revisar(ahora=ahora + timedelta(minutes=30)) == (2, 0)
    assert SinReporte.objects.filter(efectivo=callado).count() == 2


def test_fuera_de_servicio_cierra_el_aviso_sin_esperar_posicion(settings, unidad_a):
    settings.SIN_REPORTE_MIN = 10
    ahora = timezone.now()
    callado = EfectivoFactory(unidad=unidad_a, ultima_posicion_en=ahora - timedelta(minutes=30))
    sin_reporte_revisar(ahora=ahora)
    callado.estado = EstadoEfectivo.FUERA_SERVICIO
    callado.save()
    assert sin_reporte_revisar(ahora=ahora + timedelta(minutes=1)) == (0, 1)


def test_cada_uno_ve_los_silencios_de_su_alcance(api, comandante_b, unidad_a, settings):
    settings.SIN_REPORTE_MIN = 10
    EfectivoFactory(unidad=unidad_a, ultima_posicion_en=timezone.now() - timedelta(minutes=30))
    sin_reporte_revisar()
    assert api(comandante_b).get("/api/v1/sin-reporte/").json()["count"] == 0
    r = api(comandante_b).get("/api/v1/sin-reporte/", {"abiertos": "quizas"})
    assert (r.status_code, r.json()["error"]["codigo"]) == (400, "parametro_invalido")
