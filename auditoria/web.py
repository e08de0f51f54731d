"""Recording a sensitive read made through a web request (API, map)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter

from auditoria.middleware import direccion_de, interfaz_de
from auditoria.motivos import DETALLE_MAX, Motivo, MotivoAcceso, motivo_exigir
from auditoria.registro import acceso


def auditar_acceso(request, objeto: Any, que: str, **parametros: Any) -> None:
    acceso(
        usuario=request.user,
        objeto=objeto,
        que=que,
        interfaz=interfaz_de(request),
        direccion=direccion_de(request),
        **parametros,
    )


# The reason for reading an officer's personal data (auditoria.motivos), in the OpenAPI schema.
PARAMETROS_MOTIVO = [
    OpenApiParameter(
        "motivo",
        str,
        enum=[m.value for m in Motivo],
        description="Motivo del acceso a datos personales (obligatorio salvo para los propios datos)",
    ),
    OpenApiParameter(
        "motivo_detalle", str, description=f"Texto libre, hasta {DETALLE_MAX} caracteres (obligatorio con «otro»)"
    ),
]


def motivo_de(request, *, clave: str, propio: bool = False) -> MotivoAcceso | None:
    """The reason this request states for reading someone's personal data (400 without it), or
    None when the caller reads only their own (`propio`)."""
    return None if propio else motivo_exigir(request.query_params, clave=clave)


def parametros_motivo(motivo: MotivoAcceso | None) -> dict[str, Any]:
    return motivo.como_parametros() if motivo else {}
