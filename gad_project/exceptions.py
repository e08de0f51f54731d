"""Domain exceptions. Services raise these; the API exception handler maps them to a status and the
project's error shape. They carry no HTTP concerns themselves."""

from __future__ import annotations

from typing import Any


class ErrorDominio(Exception):
    codigo = "error_dominio"

    def __init__(self, mensaje: str, *, detalle: Any = None, codigo: str | None = None) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        self.detalle = detalle
        if codigo:
            self.codigo = codigo


class EntradaInvalida(ErrorDominio):
    """What the client sent cannot be accepted (400)."""

    codigo = "entrada_invalida"


class NoPermitido(ErrorDominio):
    """The caller may not do this (403)."""

    codigo = "no_permitido"


class NoEncontrado(ErrorDominio):
    codigo = "no_encontrado"


class Conflicto(ErrorDominio):
    """The request is valid but the current state forbids it (409)."""

    codigo = "conflicto"


class ServicioNoDisponible(ErrorDominio):
    """A dependency (PostgreSQL, Redis) cannot be reached right now: retry later (503)."""

    codigo = "servicio_no_disponible"
    reintentar_en_s = 5
