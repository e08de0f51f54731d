"""Every event type the domain emits: run the action, check the event's shape and audience."""

from __future__ import annotations

import pytest

from efectivos.services import efectivo_estado_cambiar
from geocercas.services import geocerca_eliminar, geocerca_guardar
from realtime.models import Evento
from tests.factories import EfectivoFactory, GeocercaFactory, UnidadFactory

pytestmark = pytest.mark.django_db


def _ultimo(tipo: str) -> Evento:
    return Evento.objects.filter(tipo=tipo).latest("id")


def test_cambiar_el_estado_de_un_efectivo_publica_efectivo_estado():
    efectivo = EfectivoFactory(estado="disponible")
    efectivo_estado_cambiar(efectivo=efectivo, estado="fuera_servicio")
    evento = _ultimo("efectivo.estado")
    assert evento.datos == {
        "efectivo_id": efectivo.pk,
        "unidad_id": efectivo.unidad_id,
        "anterior": "disponible",
        "estado": "fuera_servicio",
    }
    assert evento.audiencia == sorted(["rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"])


def test_un_estado_igual_no_publica_nada():
    efectivo = EfectivoFactory(estado="disponible")
    efectivo_estado_cambiar(efectivo=efectivo, estado="disponible")
    assert not Evento.objects.filter(tipo="efectivo.estado").exists()


def test_guardar_una_geocerca_de_unidad_publica_a_esa_unidad_con_su_version():
    unidad = UnidadFactory()
    geocerca = geocerca_guardar(geocerca=GeocercaFactory.build(), unidades=[unidad.pk])
    geocerca.activa = False
    geocerca_guardar(geocerca=geocerca)
    evento = _ultimo("geocerca.actualizada")
    assert evento.datos == {"geocerca_id": geocerca.pk, "version": 2, "activa": False}
    assert evento.audiencia == sorted(["rol.administrador", f"unidad.{unidad.pk}"])


def test_una_geocerca_general_se_publica_a_todos_los_comandantes_y_su_baja_tambien():
    geocerca = geocerca_guardar(geocerca=GeocercaFactory.build())
    assert _ultimo("geocerca.actualizada").audiencia == ["rol.administrador", "rol.comandante"]
    pk = geocerca.pk
    geocerca_eliminar(geocerca=geocerca)
    evento = _ultimo("geocerca.eliminada")
    assert evento.datos == {"geocerca_id": pk}
    assert evento.audiencia == ["rol.administrador", "rol.comandante"]
