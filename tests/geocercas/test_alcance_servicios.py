"""The geofence services enforce who may write which fence themselves: the API, the admin and any
future caller decide nothing."""

from __future__ import annotations

import pytest

from gad_project.exceptions import NoPermitido
from geocercas.models import Geocerca
from geocercas.services import geocerca_eliminar, geocerca_guardar
from tests.factories import GeocercaFactory

pytestmark = pytest.mark.django_db


def test_un_comandante_solo_escribe_geocercas_de_su_unidad(comandante_a, unidad_a, unidad_b):
    propia = geocerca_guardar(geocerca=GeocercaFactory.build(), usuario=comandante_a)
    assert list(propia.unidades.values_list("pk", flat=True)) == [unidad_a.pk]
    ajena = geocerca_guardar(geocerca=GeocercaFactory.build(), unidades=[unidad_b.pk])
    with pytest.raises(NoPermitido):
        geocerca_guardar(geocerca=GeocercaFactory.build(), unidades=[unidad_b.pk], usuario=comandante_a)
    ajena.nombre = "cambiada"
    with pytest.raises(NoPermitido):
        geocerca_guardar(geocerca=ajena, usuario=comandante_a)
    with pytest.raises(NoPermitido):
        geocerca_eliminar(geocerca=ajena, usuario=comandante_a)
    with pytest.raises(NoPermitido):
        geocerca_guardar(geocerca=propia, unidades=[unidad_a.pk, unidad_b.pk], usuario=comandante_a)
    assert Geocerca.objects.get(pk=ajena.pk).nombre != "cambiada"
    geocerca_eliminar(geocerca=propia, usuario=comandante_a)
    assert not Geocerca.objects.filter(pk=propia.pk).exists()


def test_un_efectivo_no_escribe_geocercas_y_un_admin_cualquiera(efectivo, admin, unidad_b):
    with pytest.raises(NoPermitido):
        geocerca_guardar(geocerca=GeocercaFactory.build(), usuario=efectivo.usuario)
    g = geocerca_guardar(geocerca=GeocercaFactory.build(), unidades=[unidad_b.pk], usuario=admin)
    assert list(g.unidades.values_list("pk", flat=True)) == [unidad_b.pk]
    geocerca_eliminar(geocerca=g, usuario=admin)
