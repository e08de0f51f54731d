from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.models import Efectivo
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar
from tests.vivo import TIEMPO_COMPRIMIDO, daphne, post_json


@dataclass
class Escenario:
    efectivo_a: Efectivo  # the `efectivo` persona, unidad A
    otro_a: Efectivo  # another efectivo of unidad A, no login
    efectivo_b: Efectivo  # unidad B


@pytest.fixture
def escenario(transactional_db, admin, comandante_a, comandante_b, efectivo, unidad_b):
    GeocercaFactory(nombre="Zona restringida", tipo="restringida", geom=cuadrado(lado_m=200))
    return Escenario(
        efectivo_a=efectivo,
        otro_a=EfectivoFactory(unidad=efectivo.unidad, ultima_posicion_en=None),
        efectivo_b=EfectivoFactory(unidad=unidad_b, ultima_posicion_en=None),
    )


@pytest.fixture
def servidor(transactional_db):
    with daphne(**TIEMPO_COMPRIMIDO) as url:
        yield url


def lectura(efectivo_id: int, *, dentro: bool, segundos: float = 0.0) -> dict:
    lon, lat = CENTRO if dentro else desplazar(*CENTRO, este_m=500)
    return {
        "id_cliente": str(uuid.uuid4()),
        "efectivo": efectivo_id,
        "lat": lat,
        "lon": lon,
        "registrada_en": (timezone.now() + timedelta(seconds=segundos)).isoformat(),
        "precision_m": 5,
    }


def provocar_alerta(url: str, token: str, efectivo_id: int) -> None:
    """Outside, then inside the restricted zone: exactly one `entrada` alert."""
    estado, cuerpo = post_json(
        f"{url}/api/v1/posiciones/",
        [lectura(efectivo_id, dentro=False, segundos=1), lectura(efectivo_id, dentro=True, segundos=2)],
        token,
    )
    assert estado == 201, cuerpo
