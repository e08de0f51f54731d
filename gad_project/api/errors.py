"""One exception handler: every error leaves the API as
{"error": {"codigo", "mensaje", "detalle"}} with a 4xx for anything the client sent wrong."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gad_project.exceptions import (
    Conflicto,
    EntradaInvalida,
    ErrorDominio,
    NoEncontrado,
    NoPermitido,
    ServicioNoDisponible,
)

_ESTADOS = {
    EntradaInvalida: status.HTTP_400_BAD_REQUEST,
    NoPermitido: status.HTTP_403_FORBIDDEN,
    NoEncontrado: status.HTTP_404_NOT_FOUND,
    Conflicto: status.HTTP_409_CONFLICT,
    ServicioNoDisponible: status.HTTP_503_SERVICE_UNAVAILABLE,
}

_CODIGOS = {
    exceptions.ParseError: ("json_invalido", "El cuerpo de la solicitud no es JSON válido."),
    exceptions.ValidationError: ("entrada_invalida", "Los datos enviados no son válidos."),
    exceptions.NotAuthenticated: ("no_autenticado", "Se requieren credenciales de autenticación."),
    exceptions.AuthenticationFailed: ("autenticacion_fallida", "Las credenciales no son válidas."),
    exceptions.PermissionDenied: ("no_permitido", "No tiene permiso para realizar esta acción."),
    exceptions.NotFound: ("no_encontrado", "No encontrado."),
    exceptions.MethodNotAllowed: ("metodo_no_permitido", "Método no permitido."),
    exceptions.NotAcceptable: ("no_aceptable", "No se puede generar la representación pedida."),
    exceptions.UnsupportedMediaType: ("tipo_no_soportado", "Tipo de contenido no soportado."),
    exceptions.Throttled: ("demasiadas_solicitudes", "Demasiadas solicitudes."),
}


_AUTENTICACION = {
    "token_not_valid": "El token no es válido o expiró.",
    "no_active_account": "Usuario o contraseña incorrectos, o la cuenta está inactiva.",
    "user_not_found": "El usuario no existe.",
    "user_inactive": "El usuario está inactivo.",
    "authentication_failed": "Las credenciales no son válidas.",
}


def _motivo_autenticacion(exc: exceptions.AuthenticationFailed) -> str | None:
    detalle = exc.detail
    if isinstance(detalle, dict):
        codigo = detalle.get("code")
        return str(codigo) if codigo else None
    return getattr(detalle, "code", None) or None


ERRORES_REDIS = (RedisConnectionError, RedisTimeoutError)


def error_body(codigo: str, mensaje: str, detalle: Any = None) -> dict[str, Any]:
    return {"error": {"codigo": codigo, "mensaje": mensaje, "detalle": _claves_en_texto(detalle)}}


def _claves_en_texto(valor: Any) -> Any:
    """DRF reports an invalid list item as {index: errors}; JSON object keys are strings."""
    if isinstance(valor, dict):
        return {str(k): _claves_en_texto(v) for k, v in valor.items()}
    if isinstance(valor, list):
        return [_claves_en_texto(v) for v in valor]
    return valor


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, (OperationalError, InterfaceError)):
        # PostgreSQL unreachable, the pool exhausted, a statement or lock timeout: the client
        # should retry, not report a bug.
        exc = ServicioNoDisponible("La base de datos no está disponible.")
    elif isinstance(exc, ERRORES_REDIS):
        exc = ServicioNoDisponible("Redis no está disponible.")
    if isinstance(exc, ErrorDominio):
        estado = next((s for cls, s in _ESTADOS.items() if isinstance(exc, cls)), 400)
        respuesta = Response(error_body(exc.codigo, exc.mensaje, exc.detalle), status=estado)
        if isinstance(exc, ServicioNoDisponible):
            respuesta["Retry-After"] = str(exc.reintentar_en_s)
        return respuesta
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=getattr(exc, "message_dict", None) or exc.messages)
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        # (A row another unidad owns is not even there for this user: row-level security.)
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        codigo = "cuerpo_demasiado_grande" if isinstance(exc, RequestDataTooBig) else "solicitud_invalida"
        return Response(
            error_body(codigo, "La solicitud no es válida." if codigo == "solicitud_invalida" else str(exc)),
            status=413 if isinstance(exc, RequestDataTooBig) else 400,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it be a 500 and reach the logs
    codigo, mensaje = next((v for cls, v in _CODIGOS.items() if isinstance(exc, cls)), ("error", "Error."))
    detalle: Any = response.data
    if isinstance(exc, exceptions.ValidationError):
        detalle = exc.detail
    elif isinstance(exc, exceptions.AuthenticationFailed):
        # simplejwt's reasons come in English: say them in Spanish, keep the machine code.
        motivo = _motivo_autenticacion(exc)
        mensaje = _AUTENTICACION.get(motivo or "", mensaje)
        detalle = {"motivo": motivo} if motivo else None
    elif isinstance(exc, exceptions.APIException):
        # DRF's own message is precise (and translated: the UI language is es-AR).
        mensaje = str(exc.detail) if isinstance(exc.detail, str) else mensaje
        detalle = None if isinstance(exc.detail, str) else exc.detail
    espera = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if espera is not None:
        detalle = {"reintentar_en_s": int(espera)}
    response.data = error_body(codigo, mensaje, detalle)
    return response


def _quiere_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/mapa/datos/", "/tiles/")) or "json" in request.headers.get("Accept", "")


def solicitud_invalida(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler400: what Django itself refuses before any view (SuspiciousOperation: a
    body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a GeoJSON naming an external CRS).
    JSON in the project's error shape for API clients, a short page in Spanish for people."""
    if isinstance(exception, RequestDataTooBig):
        estado, codigo = 413, "cuerpo_demasiado_grande"
        mensaje = (
            f"La solicitud supera {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KB. "
            "Para importar una forma grande use el campo de archivo."
        )
    elif isinstance(exception, TooManyFieldsSent):
        estado, codigo, mensaje = 400, "demasiados_campos", "La solicitud tiene demasiados campos."
    else:
        estado, codigo, mensaje = 400, "solicitud_invalida", "La solicitud no es válida."
    if _quiere_json(request):
        return JsonResponse(error_body(codigo, mensaje), status=estado)
    return render(request, "400.html", {"mensaje": mensaje, "estado": estado}, status=estado)


def csrf_rechazado(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF failure view, answering API clients in the project's error shape."""
    if request.path.startswith(("/api/", "/mapa/datos/")):
        return JsonResponse(
            error_body("csrf_invalido", "Falta el token CSRF o no es válido (sesión de navegador).", None),
            status=403,
        )
    return csrf_failure(request, reason=reason)
