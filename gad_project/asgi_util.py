"""Small helpers shared by the ASGI fast paths in front of Django (posiciones.asgi, mapa.asgi)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

# ASGI's three, as plain types (asgiref.typing's TypedDicts describe each message separately).
Scope = dict[str, Any]
Mensaje = dict[str, Any]
Receive = Callable[[], Awaitable[Mensaje]]
Send = Callable[[Mensaje], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Cabeceras = list[tuple[bytes, bytes]]


def cabecera(scope: Scope, nombre: bytes) -> bytes | None:
    """The first value of a request header (lower-case name, as ASGI gives them)."""
    for k, v in scope.get("headers", ()):
        if k == nombre:
            return bytes(v)
    return None
