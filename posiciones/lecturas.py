"""Validation of incoming readings. Plain functions rather than a DRF serializer: this is the hot
path (a batch of 500 readings validates in about a millisecond), and the rules are few and exact.
Every problem is reported per field, so a client knows which reading was wrong and why."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

_DESCONOCIDOS_MAX = 10
_NOMBRE_MAX = 64
_ID_MAX = 2**63 - 1  # bigint
_CAMPOS = {"id_cliente", "lat", "lon", "registrada_en", "precision_m", "velocidad_kmh", "rumbo", "efectivo"}


@dataclass(frozen=True)
class LecturaValidada:
    id_cliente: uuid.UUID
    lat: float
    lon: float
    registrada_en: datetime
    precision_m: float | None
    velocidad_kmh: float | None
    rumbo: float | None
    efectivo: int | None


def _numero(valor: Any, campo: str, minimo: float, maximo: float, errores: dict[str, str]) -> float | None:
    # bool is an int subclass in Python; true/false are not coordinates.
    if isinstance(valor, bool) or not isinstance(valor, (int, float)):
        errores[campo] = "Debe ser un número."
        return None
    try:
        numero = float(valor)
    except OverflowError:  # an int beyond float range
        numero = math.inf
    if not math.isfinite(numero):
        errores[campo] = "Debe ser un número finito."
        return None
    if not minimo <= numero <= maximo:
        errores[campo] = f"Debe estar entre {minimo:g} y {maximo:g}."
        return None
    return numero


def lectura_validar(
    item: Any, *, ahora: datetime, futuro_max: timedelta, antiguedad_max: timedelta
) -> tuple[LecturaValidada | None, dict[str, str]]:
    """Returns (reading, {}) or (None, {field: reason})."""
    if not isinstance(item, dict):
        return None, {"no_field_errors": "Cada lectura debe ser un objeto JSON."}
    errores: dict[str, str] = {}
    # Named back to the client, so bounded: a request must not be able to make a huge answer.
    for campo in sorted(set(item) - _CAMPOS)[:_DESCONOCIDOS_MAX]:
        errores[str(campo)[:_NOMBRE_MAX]] = "Campo desconocido."

    id_cliente = None
    raw = item.get("id_cliente")
    if raw is None:
        errores["id_cliente"] = "Obligatorio: un UUID generado por el equipo."
    elif not isinstance(raw, str):
        errores["id_cliente"] = "Debe ser un UUID en texto."
    else:
        try:
            id_cliente = uuid.UUID(raw)
        except ValueError:
            errores["id_cliente"] = "No es un UUID válido."

    lat = lon = None
    for campo, limite in (("lat", 90.0), ("lon", 180.0)):
        if item.get(campo) is None:
            errores[campo] = "Obligatorio."
        elif campo == "lat":
            lat = _numero(item[campo], campo, -limite, limite, errores)
        else:
            lon = _numero(item[campo], campo, -limite, limite, errores)

    registrada_en = None
    raw = item.get("registrada_en")
    if raw is None:
        errores["registrada_en"] = "Obligatorio: fecha y hora ISO 8601 con zona horaria."
    elif not isinstance(raw, str):
        errores["registrada_en"] = "Debe ser una fecha y hora ISO 8601 en texto."
    else:
        try:
            registrada_en = parse_datetime(raw)
        except ValueError:
            registrada_en = None
        if registrada_en is None:
            errores["registrada_en"] = "No es una fecha y hora ISO 8601 válida."
        elif registrada_en.tzinfo is None:
            errores["registrada_en"] = "Falta la zona horaria (p. ej. Z o -03:00)."
            registrada_en = None
        elif registrada_en > ahora + futuro_max:
            errores["registrada_en"] = "Está en el futuro: revise el reloj del equipo."
            registrada_en = None
        elif registrada_en < ahora - antiguedad_max:
            errores["registrada_en"] = f"Es demasiado antigua (más de {antiguedad_max.total_seconds() / 3600:g} h)."
            registrada_en = None

    opcionales = {}
    for campo, minimo, maximo in (
        ("precision_m", 0.0, 100_000.0),
        ("velocidad_kmh", 0.0, 1_500.0),
        ("rumbo", 0.0, 360.0),
    ):
        valor = item.get(campo)
        opcionales[campo] = None if valor is None else _numero(valor, campo, minimo, maximo, errores)

    efectivo = item.get("efectivo")
    if efectivo is not None and (
        isinstance(efectivo, bool) or not isinstance(efectivo, int) or not 0 < efectivo <= _ID_MAX
    ):
        errores["efectivo"] = "Debe ser el id numérico de un efectivo."
        efectivo = None

    if errores:
        return None, errores
    assert id_cliente is not None and lat is not None and lon is not None and registrada_en is not None
    return (
        LecturaValidada(
            id_cliente=id_cliente,
            lat=lat,
            lon=lon,
            registrada_en=registrada_en,
            efectivo=efectivo,
            **opcionales,
        ),
        {},
    )
