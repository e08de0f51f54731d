"""Implausible readings: a fix that implies moving faster than VELOCIDAD_MAX_KMH from the last
accepted one is stored, flagged, and used for nothing (no geofence flips, the last position stays,
no kilometres).

A real jump (the phone was off in a car, or the last accepted fix was itself bad) is confirmed by
a consistent track, not by one more fix: the set-aside readings form a track of their own (each at
a plausible speed from the one before, within CONFIRMACION of it), and it is accepted only once it
holds PLAUSIBILIDAD_CONFIRMAR_LECTURAS readings spanning PLAUSIBILIDAD_CONFIRMAR_S. A reading
consistent with the accepted fix (the old place reappearing) is accepted and drops that track. So
a multipath spike costs its readings, flapping between two places never moves the efectivo, and a
track that really moved recovers after a few fixes.

Speeds allow for the fixes' stated imprecision (distance minus both radii) and count at least one
second between fixes, so GPS jitter between two readings in the same second is not "impossible".
Pure: the ingest (posiciones.services.posiciones_registrar) calls it under the efectivos' locks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

RADIO_TIERRA_M = 6_371_008.8
# Two set-aside readings farther apart in time than this are not one track.
CONFIRMACION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Fix:
    lon: float
    lat: float
    en: datetime
    precision_m: float | None = None


@dataclass(frozen=True, slots=True)
class Apartadas:
    """The track of set-aside readings: its newest reading, when it began, how many it holds."""

    ultima: Fix
    desde: datetime
    n: int


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
    *,
    aceptada: Fix | None,
    apartadas: Apartadas | None,
    lecturas: Sequence[Fix],
    maximo_kmh: float,
    confirmar_n: int,
    confirmar: timedelta,
) -> tuple[list[bool], Apartadas | None]:
    """For readings in device-time order (all newer than `aceptada`, the last accepted fix), which
    are implausible; and the set-aside track left for the next call (None once none is pending)."""
    marcas: list[bool] = []
    for fix in lecturas:
        if aceptada is None or velocidad_kmh(aceptada, fix) <= maximo_kmh:
            aceptada, apartadas = fix, None
            marcas.append(False)
            continue
        if (
            apartadas is not None
            and fix.en - apartadas.ultima.en <= CONFIRMACION
            and velocidad_kmh(apartadas.ultima, fix) <= maximo_kmh
        ):
            apartadas = Apartadas(fix, apartadas.desde, apartadas.n + 1)
        else:
            apartadas = Apartadas(fix, fix.en, 1)
        if apartadas.n >= confirmar_n and fix.en - apartadas.desde >= confirmar:
            aceptada, apartadas = fix, None  # a consistent track: the efectivo really is there
            marcas.append(False)
        else:
            marcas.append(True)
    return marcas, apartadas
