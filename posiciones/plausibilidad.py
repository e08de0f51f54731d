"""Implausible readings: a fix that implies moving faster than VELOCIDAD_MAX_KMH from the last
accepted one is stored, flagged, and used for nothing (no geofence flips, the last position stays).

A real jump (the phone was off in a car, or the last accepted fix was itself bad) is confirmed by
the reading after it: one consistent with the set-aside reading, within CONFIRMACION, is accepted.
So one spike costs one reading, and a track that really moved recovers after two.

Speeds allow for the fixes' stated imprecision (distance minus both radii) and count at least one
second between fixes, so GPS jitter between two readings in the same second is not "impossible".
Pure: the ingest (posiciones.services.posiciones_registrar) calls it under the efectivos' locks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

RADIO_TIERRA_M = 6_371_008.8
CONFIRMACION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Fix:
    lon: float
    lat: float
    en: datetime
    precision_m: float | None = None


def distancia_m(a: Fix, b: Fix) -> float:
    """Great-circle distance (haversine, mean Earth radius): within 0.5 % of the geodesic."""
    f1, f2 = math.radians(a.lat), math.radians(b.lat)
    h = math.sin((f2 - f1) / 2) ** 2 + math.cos(f1) * math.cos(f2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    return 2 * RADIO_TIERRA_M * math.asin(min(1.0, math.sqrt(h)))


def velocidad_kmh(a: Fix, b: Fix) -> float:
    """The slowest speed that explains going from a to b, given their imprecision."""
    metros = max(0.0, distancia_m(a, b) - (a.precision_m or 0.0) - (b.precision_m or 0.0))
    segundos = max(1.0, abs((b.en - a.en).total_seconds()))
    return metros / segundos * 3.6


def implausibles(
    *, aceptada: Fix | None, descartada: Fix | None, lecturas: Sequence[Fix], maximo_kmh: float
) -> tuple[list[bool], Fix | None]:
    """For readings in device-time order (all newer than `aceptada`, the last accepted fix), which
    are implausible; and the set-aside reading left for the next call (None once one is accepted)."""
    marcas: list[bool] = []
    for fix in lecturas:
        confirma = (
            descartada is not None
            and abs(fix.en - descartada.en) <= CONFIRMACION
            and velocidad_kmh(descartada, fix) <= maximo_kmh
        )
        if aceptada is None or confirma or velocidad_kmh(aceptada, fix) <= maximo_kmh:
            aceptada, descartada = fix, None
            marcas.append(False)
        else:
            descartada = fix
            marcas.append(True)
    return marcas, descartada
