"""The demo's simulator plays a shift: in its first minutes a scripted scene shows every kind of
alert once; otherwise patrols keep to their beats, so alerts come a few an hour, not every minute."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from efectivos.models import Posicion
from geocercas.models import Alerta
from seguridad.models import SinReporte, Sos
from seguridad.services import sin_reporte_revisar

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.lento]


def test_los_primeros_minutos_muestran_cada_tipo_de_alerta_y_no_una_avalancha():
    call_command("cargar_demo", verbosity=0)
    assert not Alerta.objects.exists()  # a shift starts with nobody inside a fence
    call_command("simular_patrullas", iteraciones=100, rapido=True, semilla=7, stdout=io.StringIO())
    nuevas = list(Alerta.objects.select_related("geocerca"))
    vistas = {(a.geocerca.nombre, a.tipo, a.cruce) for a in nuevas}
    assert ("Casa Rosada", "entrada", False) in vistas
    assert ("Perímetro Puerto Madero", "salida", False) in vistas
    assert ("Plaza de Mayo", "permanencia", False) in vistas
    assert ("Zona de exclusión Costanera Sur", "entrada", True) in vistas  # between two sparse fixes
    # No other crossing: the first fixes against old last positions, cars around blocks.
    assert [v for v in vistas if v[2]] == [("Zona de exclusión Costanera Sur", "entrada", True)]
    assert Posicion.objects.filter(implausible=True).count() == 1
    assert Sos.objects.filter(estado="activo").count() == 1
    # Five minutes of a 240-efectivo shift: the scene's few plus chance, not dozens.
    assert len(nuevas) <= 15, sorted(vistas)
    # The one who went silent (at the scene's first minute) is missed once SIN_REPORTE_MIN (10)
    # has passed; the others reported until the fifth minute.
    abiertos, _ = sin_reporte_revisar(ahora=timezone.now() + timedelta(seconds=700))
    assert abiertos == 1
    assert SinReporte.objects.count() == 1
