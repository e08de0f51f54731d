"""Recording a sensitive read made through a web request (API, map)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from drf_spectacular.utils import OpenApiParameter

from auditoria.middleware import direccion_de, interfaz_de
from auditoria.motivos import DETALLE_MAX, Motivo, MotivoAcceso, motivo_exigir
from auditoria.registro import acceso
from gad_project.exceptions import EntradaInvalida


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


@staff_member_required
def motivo_descarga(request: HttpRequest) -> HttpResponse:
    """The admin's reason form before an export of people's data: asks why, then sends the browser
    to the export with the reason in its query (the export records it with the read)."""
    siguiente = request.GET.get("siguiente") or request.POST.get("siguiente") or ""
    if not siguiente.startswith("/api/v1/exportes/") or not url_has_allowed_host_and_scheme(siguiente, None):
        return HttpResponseBadRequest("Destino inválido.")
    error = ""
    if request.method == "POST":
        try:
            motivo = motivo_exigir(request.POST, clave="exporte")
        except EntradaInvalida as exc:
            error = exc.mensaje
        else:
            union = "&" if "?" in siguiente else "?"
            return redirect(
                f"{siguiente}{union}{urlencode({'motivo': motivo.motivo, 'motivo_detalle': motivo.detalle})}"
            )
    contexto = {
        **admin.site.each_context(request),
        "title": "Motivo de la descarga",
        "siguiente": siguiente,
        "motivos": Motivo.choices,
        "detalle_max": DETALLE_MAX,
        "error": error,
    }
    return render(request, "admin/motivo.html", contexto)
