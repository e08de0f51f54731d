"""From a request body to readings and back to a response, shared by both ways in: the lean ASGI
path for JWT clients (posiciones.asgi) and the DRF view (browser sessions, the OpenAPI schema).

The body is parsed with orjson; only if that fails is it parsed again by the standard library,
which also reads the literals NaN and Infinity and numbers beyond float range. Those become
non-finite values that the validator names per reading, so one corrupt reading never costs the
good ones in the same batch their place."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings

from efectivos.alcance import Actor
from gad_project.api.errors import error_body
from gad_project.exceptions import EntradaInvalida
from posiciones import metrics
from posiciones.lecturas import lectura_validar
from posiciones.services import Destino, LecturaNueva, ResultadoIngesta

ID_ECO_MAX = 64  # characters of a rejected id_cliente echoed back


class CuerpoInvalido(EntradaInvalida):
    codigo = "json_invalido"


def _entero(texto: str) -> int | float:
    # A number no float can hold is not a coordinate; int(texto) of thousands of digits is also
    # slow (and refused by Python past 4,300).
    return int(texto) if len(texto) <= 20 else math.inf


def cuerpo_leer(cuerpo: bytes) -> Any:
    """The JSON document in `cuerpo`; CuerpoInvalido when it is not JSON at all."""
    try:
        return orjson.loads(cuerpo)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(cuerpo, parse_int=_entero, parse_constant=float)
    except (ValueError, RecursionError) as exc:
        raise CuerpoInvalido("El cuerpo de la solicitud no es JSON válido.") from exc


@dataclass
class Preparadas:
    es_lote: bool
    total: int
    lecturas: list[LecturaNueva] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)  # position in the request of each reading
    rechazadas: list[dict[str, Any]] = field(default_factory=list)


def lecturas_preparar(datos: Any, *, actor: Actor, ahora: datetime) -> Preparadas:
    """Validate every reading and decide whom it is for: the caller's own record, unless a
    commander or admin names another (checked against their scope by the service, under lock).
    Raises EntradaInvalida for an empty or oversized batch, or a body of another kind."""
    es_lote = isinstance(datos, list)
    items = datos if es_lote else [datos]
    if es_lote and not items:
        raise EntradaInvalida("El lote está vacío.", codigo="lote_vacio")
    if len(items) > settings.POSICIONES_LOTE_MAX:
        metrics.RECHAZADAS.labels(motivo="lote_demasiado_grande").inc(len(items))
        raise EntradaInvalida(
            f"El lote supera el máximo de {settings.POSICIONES_LOTE_MAX} lecturas.",
            detalle={"maximo": settings.POSICIONES_LOTE_MAX, "recibidas": len(items)},
            codigo="lote_demasiado_grande",
        )
    futuro = timedelta(seconds=settings.POSICIONES_FUTURO_MAX_S)
    antiguedad = timedelta(hours=settings.POSICIONES_ANTIGUEDAD_MAX_H)
    preparadas = Preparadas(es_lote=es_lote, total=len(items))
    for indice, item in enumerate(items):
        lectura, errores = lectura_validar(item, ahora=ahora, futuro_max=futuro, antiguedad_max=antiguedad)
        if lectura is not None:
            efectivo_id = lectura.efectivo or actor.efectivo_id
            if efectivo_id is None:
                errores = {"efectivo": "Obligatorio: el usuario no tiene legajo de efectivo asociado."}
            elif efectivo_id != actor.efectivo_id and not actor.es_mando:
                errores = {"efectivo": "Solo comandantes o administradores pueden enviar posiciones de otro efectivo."}
        if errores:
            preparadas.rechazadas.append({"indice": indice, "id_cliente": _id_de(item), "errores": errores})
            continue
        assert lectura is not None and efectivo_id is not None  # no errors: both were set above
        preparadas.indices.append(indice)
        preparadas.lecturas.append(
            LecturaNueva(
                id_cliente=lectura.id_cliente,
                efectivo_id=efectivo_id,
                lat=lectura.lat,
                lon=lectura.lon,
                registrada_en=lectura.registrada_en,
                precision_m=lectura.precision_m,
                velocidad_kmh=lectura.velocidad_kmh,
                rumbo=lectura.rumbo,
                alcance=actor.alcance,
                registrada_por=None if efectivo_id == actor.efectivo_id else actor.usuario_id,
            )
        )
    return preparadas


def respuesta_armar(preparadas: Preparadas, resultado: ResultadoIngesta) -> tuple[int, dict[str, Any]]:
    """(status, body): 201 {aceptadas, duplicadas, fuera_de_servicio, implausibles, imprecisas}, or 400 naming every rejected
    reading while saying how many of the others were stored."""
    rechazadas = list(preparadas.rechazadas)
    for pos, motivo in resultado.rechazos.items():
        lec = preparadas.lecturas[pos]
        rechazadas.append(
            {"indice": preparadas.indices[pos], "id_cliente": str(lec.id_cliente), "errores": {"efectivo": motivo}}
        )
    cuerpo = {
        "aceptadas": resultado.aceptadas,
        "duplicadas": resultado.duplicadas,
        "fuera_de_servicio": resultado.fuera_de_servicio,
        "implausibles": len(resultado.implausibles),
        "imprecisas": len(resultado.imprecisas),
    }
    if not rechazadas:
        return 201, cuerpo
    metrics.RECHAZADAS.labels(motivo="lectura_invalida").inc(len(rechazadas))
    rechazadas.sort(key=lambda r: r["indice"])
    mensaje = (
        f"{len(rechazadas)} de {preparadas.total} lecturas rechazadas; las demás se guardaron."
        if preparadas.es_lote
        else "La lectura fue rechazada."
    )
    return 400, error_body("lecturas_invalidas", mensaje, {**cuerpo, "rechazadas": rechazadas})


def resultado_parcial(resultado: ResultadoIngesta, desde: int, hasta: int) -> ResultadoIngesta:
    """The part of a group-committed result that belongs to readings [desde, hasta)."""
    destinos = resultado.destinos[desde:hasta]
    return ResultadoIngesta(
        aceptadas=destinos.count(Destino.ACEPTADA),
        duplicadas=destinos.count(Destino.DUPLICADA),
        fuera_de_servicio=destinos.count(Destino.FUERA_DE_SERVICIO),
        destinos=destinos,
        rechazos={i - desde: m for i, m in resultado.rechazos.items() if desde <= i < hasta},
        implausibles=[i - desde for i in resultado.implausibles if desde <= i < hasta],
        imprecisas=[i - desde for i in resultado.imprecisas if desde <= i < hasta],
    )


def _id_de(item: Any) -> str | None:
    valor = item.get("id_cliente") if isinstance(item, dict) else None
    return valor[:ID_ECO_MAX] if isinstance(valor, str) else None
