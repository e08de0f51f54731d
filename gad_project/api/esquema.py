"""The OpenAPI document: every operation lists the errors it can answer, in the project's shape.

drf-spectacular documents the success response of each view; the errors come from one exception
handler (gad_project.api.errors) and follow from what the operation takes, so they are added here
rather than repeated on every view:

- 400 when it takes parameters or a body; 401 always (a bad or expired token is refused even where
  no sign-in is required); 403 unless anyone may call it; 404 when its path or body names a
  resource; 409 when it changes state; 429 when it is throttled (every write, per user: gad_project.limites);
503 always (PostgreSQL or Redis down)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class _ErrorCuerpo(serializers.Serializer):
    codigo = serializers.CharField(help_text="Código estable para programas, p. ej. `entrada_invalida`.")
    mensaje = serializers.CharField(help_text="Qué pasó, en español, para mostrar a la persona.")
    detalle = serializers.JSONField(
        allow_null=True, help_text="Datos del error: por campo, por lectura o por parámetro; puede ser nulo."
    )


class ErrorSerializer(serializers.Serializer):
    error = _ErrorCuerpo()

    class Meta:
        ref_name = "Error"


_DESCRIPCIONES = {
    "400": "Datos o parámetros inválidos (`entrada_invalida`, `parametro_invalido`, `json_invalido`).",
    "401": "Sin credenciales, o con un token inválido o vencido.",
    "403": "El rol o el alcance del usuario no permite esta operación.",
    "404": "No existe, o está fuera del alcance del usuario.",
    "409": "El estado actual no lo permite (p. ej. una transición de tarea inválida).",
    "413": "El cuerpo supera el tamaño máximo.",
    "429": "Demasiadas solicitudes: reintente más tarde.",
    "503": "Un servicio (PostgreSQL o Redis) no está disponible: reintente en `Retry-After` segundos.",
}


class Esquema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict[str, Any] | None:
        operacion = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operacion is None:
            return None
        respuestas = operacion["responses"]
        for codigo in self._errores(operacion):
            if codigo not in respuestas:
                respuestas[codigo] = self._get_response_for_code(ErrorSerializer, codigo)
                respuestas[codigo]["description"] = _DESCRIPCIONES[codigo]
            if codigo in ("429", "503"):
                respuestas[codigo]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Segundos hasta reintentar."}
                }
        operacion["responses"] = dict(sorted(respuestas.items()))
        return operacion

    def _errores(self, operacion: dict[str, Any]) -> list[str]:
        codigos = ["401", "503"]
        if operacion.get("parameters") or operacion.get("requestBody"):
            codigos.append("400")
        permisos = self.view.get_permissions()
        if not all(isinstance(p, AllowAny) for p in permisos):
            codigos.append("403")
        escribe = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if "{" in self.path or escribe:  # a body may name a resource too
            codigos.append("404")
        if escribe:
            codigos.append("409")
        from gad_project.limites import Escrituras

        # The default throttle counts writes only (per user); sign-in has its own.
        if any(not isinstance(t, Escrituras) or escribe for t in self.view.get_throttles()):
            codigos.append("429")
        return codigos
