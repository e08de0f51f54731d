"""Recording a sensitive read made through a web request (API, map)."""

from __future__ import annotations

import re
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


# An officer's record in the admin: the reason is asked once per officer per session (kept in the
# session under this key, by efectivo id) and recorded with every opening.
SESION_MOTIVOS = "gad_motivos_ficha"
FICHA_ADMIN = re.compile(r"^/admin/efectivos/efectivo/(\d+)/change/$")


def motivo_de_sesion(request: HttpRequest, efectivo_id: int) -> MotivoAcceso | None:
    guardado = request.session.get(SESION_MOTIVOS, {}).get(str(efectivo_id))
    return MotivoAcceso(guardado["motivo"], guardado.get("detalle") or "") if guardado else None


@staff_member_required
def motivo_descarga(request: HttpRequest) -> HttpResponse:
    """The admin's reason form before a read of people's data: an export (the browser is sent to it
    with the reason in its query, and the export records it with the read), or an officer's record
    (the reason is kept in the session for that officer, and the record's opening records it)."""
    siguiente = request.GET.get("siguiente") or request.POST.get("siguiente") or ""
    ficha = FICHA_ADMIN.match(siguiente.split("?", 1)[0])
    if not (siguiente.startswith("/api/v1/exportes/") or ficha) or not url_has_allowed_host_and_scheme(siguiente, None):
        return HttpResponseBadRequest("Destino inválido.")
    error = ""
    if request.method == "POST":
        try:
            motivo = motivo_exigir(request.POST, clave="ficha" if ficha else "exporte")
        except EntradaInvalida as exc:
            error = exc.mensaje
        else:
            if ficha:
                motivos = request.session.get(SESION_MOTIVOS, {})
                motivos[ficha.group(1)] = {"motivo": motivo.motivo, "detalle": motivo.detalle}
                request.session[SESION_MOTIVOS] = motivos
                return redirect(siguiente)
            union = "&" if "?" in siguiente else "?"
            return redirect(
                f"{siguiente}{union}{urlencode({'motivo': motivo.motivo, 'motivo_detalle': motivo.detalle})}"
            )
    contexto = {
        **admin.site.each_context(request),
        "ficha": bool(ficha),
        "title": "Motivo de la consulta" if ficha else "Motivo de la descarga",
        "siguiente": siguiente,
        "motivos": Motivo.choices,
        "detalle_max": DETALLE_MAX,
        "error": error,
    }
    return render(request, "admin/motivo.html", contexto)
