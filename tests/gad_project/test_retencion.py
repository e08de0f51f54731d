"""Retention for everything personal (#30): what is past its days goes, what is still open or in
use stays, whatever its age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.models import Dispositivo, TipoDispositivo
from gad_project import tasks
from gad_project.celery import app
from gad_project.retencion import retencion_aplicar
from geocercas.models import Alerta, AlertaNota, EstadoAlerta
from mensajes.models import Destino, Entrega, Mensaje
from seguridad.models import ControlBienestar, EstadoBienestar, EstadoSos, FuenteSos, Sos
from tests.factories import AlertaFactory

pytestmark = pytest.mark.django_db


def test_lo_vencido_se_borra_y_lo_abierto_queda(settings, efectivo, comandante_a):
    settings.ALERTAS_RETENCION_DIAS = 30
    settings.MENSAJES_RETENCION_DIAS = 30
    settings.SOS_RETENCION_DIAS = 30
    settings.BIENESTAR_RETENCION_DIAS = 30
    settings.DISPOSITIVOS_RETENCION_DIAS = 30
    viejo = timezone.now() - timedelta(days=31)
    reciente = timezone.now() - timedelta(days=29)

    cerrada_vieja = AlertaFactory(efectivo=efectivo, estado=EstadoAlerta.RESUELTA, ultima_en=viejo)
    AlertaNota.objects.create(
        alerta=cerrada_vieja, estado=EstadoAlerta.RESUELTA, usuario=comandante_a, nota="visto", en=viejo
    )
    abierta_vieja = AlertaFactory(efectivo=efectivo, estado=EstadoAlerta.PENDIENTE, ultima_en=viejo)
    cerrada_reciente = AlertaFactory(efectivo=efectivo, estado=EstadoAlerta.RESUELTA, ultima_en=reciente)

    mensajes = [Mensaje.objects.create(autor=comandante_a, texto=t, destino=Destino.EFECTIVOS) for t in "ab"]
    for m in mensajes:
        Entrega.objects.create(mensaje=m, efectivo=efectivo)
    Mensaje.objects.filter(pk=mensajes[0].pk).update(creado_en=viejo)

    sos_resuelto = Sos.objects.create(efectivo=efectivo, fuente=FuenteSos.API, estado=EstadoSos.RESUELTO)
    sos_activo = Sos.objects.create(efectivo=efectivo, fuente=FuenteSos.API)
    Sos.objects.update(creado_en=viejo)

    controles = [
        ControlBienestar.objects.create(
            efectivo=efectivo,
            intervalo_min=30,
            creado_por=comandante_a,
            proximo_en=viejo,
            estado=estado,
            terminado_en=viejo if estado == EstadoBienestar.TERMINADO else None,
        )
        for estado in (EstadoBienestar.TERMINADO, EstadoBienestar.AL_DIA)
    ]
    ControlBienestar.objects.update(creado_en=viejo)

    revocado = Dispositivo.objects.create(
        efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, credencial_hash="a" * 64, revocado_en=viejo
    )
    en_uso = Dispositivo.objects.create(efectivo=efectivo, tipo=TipoDispositivo.TRACCAR, credencial_hash="b" * 64)

    borradas = retencion_aplicar()

    assert borradas == {
        "alertas": 1,
        "mensajes": 1,
        "sos": 1,
        "controles_bienestar": 1,
        "sin_reporte": 0,
        "dispositivos_revocados": 1,
    }
    assert set(Alerta.objects.values_list("pk", flat=True)) == {abierta_vieja.pk, cerrada_reciente.pk}
    assert not AlertaNota.objects.exists()  # an alert's notes go with it
    assert list(Mensaje.objects.values_list("pk", flat=True)) == [mensajes[1].pk]
    assert list(Entrega.objects.values_list("mensaje_id", flat=True)) == [mensajes[1].pk]
    assert list(Sos.objects.values_list("pk", flat=True)) == [sos_activo.pk]
    assert not Sos.objects.filter(pk=sos_resuelto.pk).exists()
    assert list(ControlBienestar.objects.values_list("pk", flat=True)) == [controles[1].pk]
    assert list(Dispositivo.objects.values_list("pk", flat=True)) == [en_uso.pk]
    assert not Dispositivo.objects.filter(pk=revocado.pk).exists()
    assert retencion_aplicar() == dict.fromkeys(borradas, 0)  # nothing left to do


def test_la_retencion_corre_en_el_beat_todos_los_dias():
    entrada = app.conf.beat_schedule["retencion-aplicar"]
    assert entrada["task"] == "gad_project.tasks.retencion_aplicar" and entrada["schedule"] == 86400.0
    assert tasks.retencion_aplicar.name == entrada["task"]
