"""Every write request (POST, PUT, PATCH, DELETE) runs inside an audit context: the signed-in
user (session or bearer token), their role and unidad, the interface and the client's address."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from auditoria.models import Interfaz
from auditoria.registro import contexto

METODOS = {"POST", "PUT", "PATCH", "DELETE"}
# Position readings are not audited row by row (see auditoria.registro).
SIN_AUDITAR = ("/api/v1/posiciones/",)


def direccion_de(request: HttpRequest) -> str | None:
    """The client's address as the throttles count it (NUM_PROXIES trusted proxies)."""
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    return ident.strip() or None


def interfaz_de(request: HttpRequest) -> str:
    if request.path.startswith("/admin/"):
        return Interfaz.ADMIN
    if request.path.startswith("/api/") and not request.headers.get("Authorization"):
        return Interfaz.MAPA  # the map page calls the API with its session
    if request.path.startswith("/mapa/"):
        return Interfaz.MAPA
    return Interfaz.API


class Auditoria:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method not in METODOS or request.path.startswith(SIN_AUDITAR):
            return self.get_response(request)
        with contexto(
            actor=lambda: getattr(request, "user", None),
            interfaz=interfaz_de(request),
            direccion=direccion_de(request),
        ):
            return self.get_response(request)
