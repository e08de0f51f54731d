"""Small helpers shared by the ASGI fast paths in front of Django (efectivos.asgi, mapa.asgi)."""

from __future__ import annotations


def cabecera(scope, nombre: bytes) -> bytes | None:
    """The first value of a request header (lower-case name, as ASGI gives them)."""
    for k, v in scope.get("headers", ()):
        if k == nombre:
            return v
    return None
