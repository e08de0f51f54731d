"""Recording a sensitive read made through a web request (API, map)."""

from __future__ import annotations

from typing import Any

from auditoria.middleware import direccion_de, interfaz_de
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
