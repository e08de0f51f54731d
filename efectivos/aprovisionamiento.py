"""What a phone scans to configure its tracker app in one step (pure: no database).

- Traccar Client reads an `http(s)` link as its configuration: the server URL is the link's
  origin and path, and the query sets `id`, `interval`, `distance`, `heartbeat`, `accuracy`,
  `buffer`, `stop_detection`, `fastest_interval` and `service` (traccar-client
  `lib/configuration_service.dart`, the same keys as its MDM managed configuration).
- OwnTracks opens `owntracks:///config?inline=<base64 of a JSON configuration>`: HTTP mode
  (`mode` 3), the endpoint, Basic credentials, tracker id and a monitoring mode (OwnTracks
  booklet, "Remote configuration")."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings


@dataclass(frozen=True)
class Perfil:
    """The agency's tracking profile (settings DISPOSITIVO_*): a fix every `intervalo_s` or
    `distancia_m` while moving, and a heartbeat while still, well under SIN_REPORTE_MIN."""

    intervalo_s: int
    distancia_m: int
    latido_s: int
    precision: str


def perfil() -> Perfil:
    return Perfil(
        intervalo_s=settings.DISPOSITIVO_INTERVALO_S,
        distancia_m=settings.DISPOSITIVO_DISTANCIA_M,
        latido_s=settings.DISPOSITIVO_LATIDO_S,
        precision=settings.DISPOSITIVO_PRECISION,
    )


def traccar_config(*, url: str, secreto: str, p: Perfil) -> dict[str, Any]:
    """Traccar Client's settings, by the keys its link and its MDM managed configuration use."""
    return {
        "url": url,
        "id": secreto,
        "interval": p.intervalo_s,
        "distance": p.distancia_m,
        "heartbeat": p.latido_s,
        "accuracy": p.precision,
        "buffer": True,
        # Stop detection pauses reports while still; the heartbeat keeps the efectivo in contact.
        "stop_detection": True,
        "fastest_interval": min(10, p.intervalo_s),
    }


def traccar_enlace(*, url: str, secreto: str, p: Perfil) -> str:
    config = traccar_config(url=url, secreto=secreto, p=p)
    consulta = {k: str(v).lower() if isinstance(v, bool) else v for k, v in config.items() if k != "url"}
    return f"{url}?{urlencode({**consulta, 'service': 'true'})}"


def owntracks_config(*, url: str, usuario: str, clave: str, tid: str, p: Perfil) -> dict[str, Any]:
    return {
        "_type": "configuration",
        "mode": 3,  # HTTP
        "url": url,
        "auth": True,
        "username": usuario,
        "password": clave,
        "deviceId": usuario,
        "tid": tid[:2].upper() or "GA",
        "monitoring": 2,  # move mode: reports every locatorInterval while moving
        "locatorInterval": p.intervalo_s,
        "locatorDisplacement": p.distancia_m,
        "pubExtendedData": True,
    }


def owntracks_enlace(*, url: str, usuario: str, clave: str, tid: str, p: Perfil) -> str:
    config = owntracks_config(url=url, usuario=usuario, clave=clave, tid=tid, p=p)
    inline = base64.b64encode(json.dumps(config, separators=(",", ":")).encode()).decode()
    return f"owntracks:///config?inline={inline}"
