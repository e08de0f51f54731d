"""Query-string parsing for views: a bad parameter is a 400 naming it, never a 500."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal, overload

from django.utils.dateparse import parse_datetime

from gad_project.exceptions import EntradaInvalida

# Dates outside these years are a client's bug (and years near 1 overflow when moved to UTC).
ANIO_MIN, ANIO_MAX = 2000, 2100
_BOOLEANOS = {"true": True, "1": True, "si": True, "sí": True, "false": False, "0": False, "no": False}


def _invalido(nombre: str, motivo: str) -> EntradaInvalida:
    return EntradaInvalida(
        f"Parámetro '{nombre}' inválido: {motivo}", detalle={nombre: motivo}, codigo="parametro_invalido"
    )


def _param_numero(params, nombre, tipo, *, minimo, maximo, requerido, defecto, que: str):
    raw = params.get(nombre)
    if raw in (None, ""):
        if requerido:
            raise _invalido(nombre, "obligatorio")
        return defecto
    try:
        valor = tipo(raw)
    except ValueError:
        raise _invalido(nombre, f"debe ser {que}") from None
    if (isinstance(valor, float) and not math.isfinite(valor)) or not minimo <= valor <= maximo:
        desde, hasta = (f"{minimo:g}", f"{maximo:g}") if tipo is float else (minimo, maximo)
        raise _invalido(nombre, f"debe estar entre {desde} y {hasta}")
    return valor


def param_float(
    params, nombre: str, *, minimo: float, maximo: float, requerido: bool = False, defecto: float | None = None
) -> float | None:
    return _param_numero(
        params, nombre, float, minimo=minimo, maximo=maximo, requerido=requerido, defecto=defecto, que="un número"
    )


@overload
def param_int(params: Any, nombre: str, *, minimo: int, maximo: int, requerido: bool = ..., defecto: int) -> int: ...
@overload
def param_int(
    params: Any, nombre: str, *, minimo: int, maximo: int, requerido: Literal[True], defecto: None = ...
) -> int: ...
@overload
def param_int(
    params: Any, nombre: str, *, minimo: int, maximo: int, requerido: bool = ..., defecto: None = ...
) -> int | None: ...
def param_int(
    params: Any, nombre: str, *, minimo: int, maximo: int, requerido: bool = False, defecto: int | None = None
) -> int | None:
    return _param_numero(
        params,
        nombre,
        int,
        minimo=minimo,
        maximo=maximo,
        requerido=requerido,
        defecto=defecto,
        que="un número entero",
    )


def param_opcion(params, nombre: str, opciones) -> str | None:
    raw = params.get(nombre)
    if raw in (None, ""):
        return None
    validas = [str(v) for v in opciones]
    if raw not in validas:
        raise _invalido(nombre, f"debe ser uno de: {', '.join(validas)}")
    return raw


def param_bbox(params, nombre: str = "bbox") -> tuple[float, float, float, float] | None:
    """'min_lon,min_lat,max_lon,max_lat' in WGS84."""
    raw = params.get(nombre)
    if raw in (None, ""):
        return None
    partes = raw.split(",")
    try:
        valores = tuple(float(p) for p in partes)
    except ValueError:
        raise _invalido(nombre, "use min_lon,min_lat,max_lon,max_lat") from None
    if len(valores) != 4 or not all(math.isfinite(v) for v in valores):
        raise _invalido(nombre, "use min_lon,min_lat,max_lon,max_lat")
    x0, y0, x1, y1 = valores
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise _invalido(nombre, "fuera de rango o con mínimos mayores que máximos")
    return valores


def param_fecha(params, nombre: str) -> datetime | None:
    raw = params.get(nombre)
    if raw in (None, ""):
        return None
    try:
        valor = parse_datetime(raw)
    except ValueError:
        valor = None
    if valor is None or valor.tzinfo is None:
        raise _invalido(nombre, "fecha y hora ISO 8601 con zona horaria")
    if not ANIO_MIN <= valor.year <= ANIO_MAX:
        raise _invalido(nombre, f"la fecha debe estar entre el año {ANIO_MIN} y el {ANIO_MAX}")
    return valor


def param_bool(params, nombre: str) -> bool | None:
    raw = params.get(nombre)
    if raw in (None, ""):
        return None
    valor = _BOOLEANOS.get(raw.strip().lower())
    if valor is None:
        raise _invalido(nombre, "use true o false")
    return valor
