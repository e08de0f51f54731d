"""The phone tracker apps' wire formats, read into GAD's reading (`posiciones.lecturas`).

Pure: bytes in, readings out; who the device is and what is stored is `posiciones.dispositivos`.

- **OsmAnd** (Traccar Client), as Traccar's own server reads it (`OsmAndProtocolDecoder`): the
  fields in the URL query or a form body (`id`, `lat`, `lon`, `timestamp`, `accuracy`, `speed` in
  knots, `bearing`/`heading`, `altitude`, `batt` %, `charge`, `alarm`; version 10 posts a form), a
  JSON array of such flat objects (the SDK's `uploadJson`), or version 9's JSON object
  `{"location": {timestamp ISO, coords {latitude, longitude, accuracy, speed m/s, heading},
  battery {level 0–1, is_charging}, extras}, "device_id"}`. `timestamp` is seconds, milliseconds
  (a value past 2^31 − 1), ISO 8601 or `yyyy-MM-dd HH:mm:ss` (UTC).
- **OwnTracks** (HTTP mode): one JSON message per POST; only `_type: location` is a reading (`lat`,
  `lon`, `tst` epoch s, `acc`, `vel` km/h, `cog`, `batt` %, `bs` 2 charging / 3 full); any other
  type, or an empty body, is acknowledged and ignored.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

NUDOS_A_KMH = 1.852
MS_A_KMH = 3.6
_ENTERO_MAX = 2**31 - 1  # below it a numeric timestamp is seconds, above it milliseconds (Traccar)
_ESPACIO = uuid.UUID("5b0c9f59-0d4a-4a8e-9d3e-7c1f52f1a6d0")  # id_cliente = uuid5(this, device|time)


class FormatoInvalido(ValueError):
    """The body cannot be read as the protocol at all (the phone's queue must still move on)."""


@dataclass(frozen=True)
class Reporte:
    """One message from a device: the credential it carries (OsmAnd's `id`; OwnTracks
    authenticates with HTTP Basic instead), the reading in GAD's field names (values as sent,
    validated later by `lecturas.lectura_validar`), the battery, and an alarm."""

    credencial: str | None
    lectura: dict[str, Any] | None  # None: a message without a position (a heartbeat, another type)
    bateria_pct: float | None = None
    cargando: bool | None = None
    alarma: str | None = None
    motivo: str = ""  # why `lectura` is None when the message claimed to carry one


def id_cliente(dispositivo_id: int, registrada_en: str) -> str:
    """The reading's idempotency key, which these apps do not send: a device resending its buffer
    sends the same time again, so the same key, and the reading is stored once."""
    return str(uuid.uuid5(_ESPACIO, f"{dispositivo_id}|{registrada_en}"))


def _numero(valor: Any) -> float | None:
    if valor is None or valor == "" or isinstance(valor, bool):
        return None
    if isinstance(valor, (int, float)):
        return float(valor)
    if isinstance(valor, str):
        try:
            return float(valor)
        except ValueError:
            return math.nan  # named as invalid by the validation, not silently dropped
    return math.nan


def _booleano(valor: Any) -> bool | None:
    if isinstance(valor, bool):
        return valor
    if isinstance(valor, (int, float)):
        return bool(valor)
    if isinstance(valor, str) and valor.lower() in ("true", "1", "false", "0"):
        return valor.lower() in ("true", "1")
    return None


def hora_osmand(valor: Any) -> str | None:
    """A Traccar `timestamp` as ISO 8601 with zone (None when it cannot be read)."""
    if valor is None or isinstance(valor, bool):
        return None
    texto = str(valor).strip()
    try:
        numero = int(valor) if isinstance(valor, float) else int(texto)
    except (ValueError, OverflowError):
        numero = None
    try:
        if numero is not None:
            segundos = numero if numero < _ENTERO_MAX else numero / 1000
            return datetime.fromtimestamp(segundos, tz=UTC).isoformat()
        if "T" in texto:
            hora = datetime.fromisoformat(texto.replace("Z", "+00:00"))
            return (hora if hora.tzinfo else hora.replace(tzinfo=UTC)).isoformat()
        return datetime.strptime(texto, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


def _lectura(
    lat: Any, lon: Any, hora: str | None, *, precision: Any, velocidad_kmh: float | None, rumbo: Any
) -> tuple[dict[str, Any] | None, str]:
    la, lo = _numero(lat), _numero(lon)
    if la is None or lo is None:
        return None, "sin posición"
    if la == 0 and lo == 0:
        return None, "sin posición (0, 0)"
    if hora is None:
        return None, "hora ilegible"
    lectura: dict[str, Any] = {"lat": la, "lon": lo, "registrada_en": hora}
    for campo, valor in (("precision_m", _numero(precision)), ("velocidad_kmh", velocidad_kmh)):
        if valor is not None:
            lectura[campo] = valor
    if (r := _numero(rumbo)) is not None and r >= 0:  # Traccar sends -1 when the bearing is unknown
        lectura["rumbo"] = r % 360 if math.isfinite(r) else r
    if (v := lectura.get("velocidad_kmh")) is not None and math.isfinite(v) and v < 0:
        del lectura["velocidad_kmh"]  # -1: unknown
    return lectura, ""


def _osmand_plano(campos: dict[str, Any]) -> Reporte:
    credencial = campos.get("id") or campos.get("deviceid")
    hora = hora_osmand(campos.get("timestamp"))
    lat, lon = campos.get("lat"), campos.get("lon")
    if lat is None and isinstance(campos.get("location"), str) and "," in campos["location"]:
        lat, lon = campos["location"].split(",", 1)
    nudos = _numero(campos.get("speed"))
    lectura, motivo = _lectura(
        lat,
        lon,
        hora,
        precision=campos.get("accuracy"),
        velocidad_kmh=None if nudos is None else nudos * NUDOS_A_KMH,
        rumbo=campos.get("bearing", campos.get("heading")),
    )
    bateria = _numero(campos.get("batt"))
    alarma = campos.get("alarm")
    return Reporte(
        credencial=str(credencial) if credencial not in (None, "") else None,
        lectura=lectura,
        bateria_pct=bateria if bateria is not None and 0 <= bateria <= 100 else None,
        cargando=_booleano(campos.get("charge")),
        alarma=str(alarma)[:40] if alarma else None,
        motivo=motivo,
    )


def _osmand_transistor(datos: dict[str, Any]) -> list[Reporte]:
    """Version 9: `{"location": {...} or [...], "device_id": ...}`."""
    credencial = datos.get("device_id")
    ubicaciones = datos.get("location")
    if isinstance(ubicaciones, dict):
        ubicaciones = [ubicaciones]
    if not isinstance(ubicaciones, list):
        raise FormatoInvalido("Falta `location`.")
    reportes = []
    for ub in ubicaciones:
        if not isinstance(ub, dict):
            raise FormatoInvalido("Cada `location` debe ser un objeto.")
        coords: dict[str, Any] = ub["coords"] if isinstance(ub.get("coords"), dict) else {}
        bateria: dict[str, Any] = ub["battery"] if isinstance(ub.get("battery"), dict) else {}
        ms = _numero(coords.get("speed"))
        lectura, motivo = _lectura(
            coords.get("latitude"),
            coords.get("longitude"),
            hora_osmand(ub.get("timestamp")),
            precision=coords.get("accuracy"),
            velocidad_kmh=None if ms is None else ms * MS_A_KMH,
            rumbo=coords.get("heading"),
        )
        nivel = _numero(bateria.get("level"))
        extras: dict[str, Any] = ub["extras"] if isinstance(ub.get("extras"), dict) else {}
        alarma = extras.get("alarm")
        reportes.append(
            Reporte(
                credencial=str(credencial) if credencial not in (None, "") else None,
                lectura=lectura,
                bateria_pct=nivel * 100 if nivel is not None and 0 <= nivel <= 1 else None,
                cargando=_booleano(bateria.get("is_charging")),
                alarma=str(alarma)[:40] if alarma else None,
                motivo=motivo,
            )
        )
    return reportes


def osmand_leer(query: bytes, cuerpo: bytes, tipo: bytes | None) -> list[Reporte]:
    """Every message in an OsmAnd request (one, except a JSON array or a v9 batch)."""
    if query:
        return [_osmand_plano(dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)))]
    if not cuerpo.strip():
        raise FormatoInvalido("El cuerpo está vacío.")
    es_json = (tipo or b"").split(b";")[0].strip().lower() == b"application/json" or cuerpo.lstrip()[:1] in (
        b"{",
        b"[",
    )
    if not es_json:
        return [_osmand_plano(dict(parse_qsl(cuerpo.decode("utf-8", "replace"), keep_blank_values=True)))]
    try:
        datos = orjson.loads(cuerpo)
    except orjson.JSONDecodeError as exc:
        raise FormatoInvalido("JSON malformado.") from exc
    if isinstance(datos, list):
        if not all(isinstance(d, dict) for d in datos):
            raise FormatoInvalido("Cada posición debe ser un objeto.")
        return [_osmand_plano(d) for d in datos]
    if isinstance(datos, dict):
        return _osmand_transistor(datos) if "location" in datos else [_osmand_plano(datos)]
    raise FormatoInvalido("Se esperaba un objeto o una lista.")


def owntracks_leer(cuerpo: bytes) -> Reporte | None:
    """The reading in an OwnTracks message, or None for a message of another type (or none)."""
    if not cuerpo.strip():
        return None
    try:
        datos = orjson.loads(cuerpo)
    except orjson.JSONDecodeError as exc:
        raise FormatoInvalido("JSON malformado.") from exc
    if not isinstance(datos, dict):
        raise FormatoInvalido("Se esperaba un objeto JSON.")
    if datos.get("_type") != "location":
        return None
    tst = datos.get("tst")
    hora = (
        hora_osmand(tst) if isinstance(tst, (int, float)) and not isinstance(tst, bool) and math.isfinite(tst) else None
    )
    vel = _numero(datos.get("vel"))
    lectura, motivo = _lectura(
        datos.get("lat"), datos.get("lon"), hora, precision=datos.get("acc"), velocidad_kmh=vel, rumbo=datos.get("cog")
    )
    bateria = _numero(datos.get("batt"))
    bs = datos.get("bs")
    return Reporte(
        credencial=None,
        lectura=lectura,
        bateria_pct=bateria if bateria is not None and 0 <= bateria <= 100 else None,
        cargando=bs in (2, 3) if isinstance(bs, int) and bs in (1, 2, 3) else None,
        motivo=motivo,
    )
