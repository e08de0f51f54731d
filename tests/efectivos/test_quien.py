"""Who was where: several efectivos' tracks in one window, scoped, filtered by area, thinned."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from auditoria.models import Registro
from efectivos.models import Posicion
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, EfectivoFactory, desplazar

pytestmark = pytest.mark.django_db


def lecturas(efectivo, n: int, *, este_m: float = 0, cada_s: int = 10, hasta=None) -> None:
    hasta = hasta or timezone.now()
    Posicion.objects.bulk_create(
        Posicion(
            efectivo=efectivo,
            punto=Point(*desplazar(*CENTRO, este_m=este_m + i, norte_m=0), srid=4326),
            registrada_en=hasta - timedelta(seconds=cada_s * (n - i)),
            recibida_en=hasta,
            fuente="api",
            id_cliente=uuid.uuid4(),
        )
        for i in range(n)
    )


def test_los_recorridos_de_la_unidad_en_la_ventana(comandante_a, unidad_a, unidad_b):
    a1, a2 = EfectivoFactory(unidad=unidad_a), EfectivoFactory(unidad=unidad_a)
    ajeno = EfectivoFactory(unidad=unidad_b)
    for e in (a1, a2, ajeno):
        lecturas(e, 30)
    r = cliente_jwt(comandante_a).get("/api/v1/efectivos/recorridos/?motivo=supervision")
    assert r.status_code == 200, r.content
    datos = r.json()
    assert {e["id"] for e in datos["efectivos"]} == {a1.pk, a2.pk}  # never B's
    [uno] = [e for e in datos["efectivos"] if e["id"] == a1.pk]
    assert len(uno["puntos"]) == 30 and uno["codigo"] == a1.codigo_interno
    tiempos = [p[2] for p in uno["puntos"]]
    assert tiempos == sorted(tiempos)
    assert Registro.objects.filter(
        action=Registro.Action.ACCESS, additional_data__lectura="quién estaba dónde"
    ).exists()


def test_solo_quienes_pasaron_por_la_zona(comandante_a, unidad_a):
    cerca, lejos = EfectivoFactory(unidad=unidad_a), EfectivoFactory(unidad=unidad_a)
    lecturas(cerca, 10)
    lecturas(lejos, 10, este_m=5000)
    x0, y0 = desplazar(*CENTRO, este_m=-200, norte_m=-200)
    x1, y1 = desplazar(*CENTRO, este_m=200, norte_m=200)
    r = cliente_jwt(comandante_a).get(f"/api/v1/efectivos/recorridos/?bbox={x0},{y0},{x1},{y1}&motivo=supervision")
    assert [e["id"] for e in r.json()["efectivos"]] == [cerca.pk]


def test_un_recorrido_largo_se_ralea_y_conserva_la_ultima_lectura(comandante_a, unidad_a):
    e = EfectivoFactory(unidad=unidad_a)
    lecturas(e, 2000, cada_s=1)
    [t] = cliente_jwt(comandante_a).get("/api/v1/efectivos/recorridos/?motivo=supervision").json()["efectivos"]
    assert 500 <= len(t["puntos"]) <= 601
    ultima = Posicion.objects.filter(efectivo=e).order_by("-registrada_en").first()
    assert t["puntos"][-1][0] == pytest.approx(ultima.punto.x, abs=1e-6)


@pytest.mark.parametrize(
    "consulta, campo",
    [
        ("desde=2026-12-02T10:00:00-03:00&hasta=2026-12-01T10:00:00-03:00", "desde"),
        ("desde=2026-12-01T00:00:00-03:00&hasta=2026-12-02T10:00:00-03:00", "horas_max"),
        ("bbox=1,2,3", "bbox"),
        ("unidad=abc", "unidad"),
    ],
)
def test_ventanas_y_zonas_mal_dadas_son_400(comandante_a, consulta, campo):
    r = cliente_jwt(comandante_a).get(f"/api/v1/efectivos/recorridos/?{consulta}&motivo=supervision")
    assert r.status_code == 400 and campo in str(r.json()["error"]["detalle"])


def test_un_efectivo_no_ve_a_los_demas(efectivo):
    assert cliente_jwt(efectivo.usuario).get("/api/v1/efectivos/recorridos/?motivo=supervision").status_code == 403
