"""`/reportes/`: a unidad's report for a shift, a day or a week — a page to read and print, the
same page as a PDF file drawn on the server (charts included), and its tables as CSV files. Every
report read is in the audit trail (it names efectivos and their hours)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from auditoria.web import auditar_acceso
from efectivos.alcance import alcance_de
from efectivos.models import Unidad
from efectivos.selectors import unidades_visibles
from exportes import formatos as exportes
from gad_project.api.params import param_fecha, param_int, param_opcion
from gad_project.exceptions import EntradaInvalida, NoEncontrado
from reportes import graficos, pdf, selectors
from tareas.models import EstadoTarea, TipoTarea

PERIODOS = {"turno": timedelta(hours=8), "dia": timedelta(days=1), "semana": timedelta(days=7)}
VENTANA_MAX = timedelta(days=31)
FORMATOS = ("html", "pdf", "csv")


def _parametros(request: HttpRequest):
    p = request.GET
    unidades = unidades_visibles(usuario=request.user).order_by("codigo")
    unidad_id = param_int(p, "unidad", minimo=1, maximo=2**62)
    unidad = unidades.filter(pk=unidad_id).first() if unidad_id else unidades.first()
    if unidad is None:
        raise NoEncontrado("Unidad inexistente o fuera de su alcance.", detalle={"unidad": unidad_id})
    periodo = param_opcion(p, "periodo", list(PERIODOS)) or "dia"
    hasta = param_fecha(p, "hasta") or timezone.now()
    desde = param_fecha(p, "desde") or hasta - PERIODOS[periodo]
    if desde >= hasta:
        raise EntradaInvalida("`desde` debe ser anterior a `hasta`.", detalle={"desde": p.get("desde")})
    if hasta - desde > VENTANA_MAX:
        raise EntradaInvalida("El período es de 31 días como máximo.", detalle={"dias_max": 31})
    return unidades, unidad, periodo, desde, hasta


def _contorno(unidad: Unidad) -> list[list[tuple[float, float]]]:
    if unidad.jurisdiccion is None:
        return []
    return [list(p[0]) for p in unidad.jurisdiccion]  # exterior rings


@login_required
def reporte(request: HttpRequest) -> HttpResponse:
    if not alcance_de(request.user).es_mando:
        return render(request, "mapa/rechazado.html", status=403)
    try:
        unidades, unidad, periodo, desde, hasta = _parametros(request)
    except EntradaInvalida as exc:
        return render(request, "reportes/error.html", {"error": exc.mensaje}, status=400)
    except NoEncontrado as exc:
        return render(request, "reportes/error.html", {"error": exc.mensaje}, status=404)
    formato = request.GET.get("formato") or "html"
    if formato not in FORMATOS:
        error = f"Formato desconocido: {formato[:20]!r}; uno de {', '.join(FORMATOS)}."
        return render(request, "reportes/error.html", {"error": error}, status=400)
    tabla = request.GET.get("tabla") or "resumen"
    if formato == "csv" and tabla not in TABLAS:
        error = f"Tabla desconocida: {tabla[:20]!r}; una de {', '.join(TABLAS)}."
        return render(request, "reportes/error.html", {"error": error}, status=400)
    r = selectors.reporte_unidad(unidad_id=unidad.pk, desde=desde, hasta=hasta)
    auditar_acceso(request, unidad, "reporte", formato=formato, desde=desde.isoformat(), hasta=hasta.isoformat())
    if formato == "csv":
        return _csv(r, unidad, tabla)
    etiquetas_estado = dict(EstadoTarea.choices)
    consulta = request.GET.copy()
    for clave in ("formato", "tabla"):
        consulta.pop(clave, None)
    contexto = {
        "consulta": consulta.urlencode() + ("&" if consulta else ""),
        "unidades": unidades,
        "unidad": unidad,
        "periodo": periodo,
        "desde": timezone.localtime(desde),
        "hasta": timezone.localtime(hasta),
        "r": r,
        "tareas": [(dict(TipoTarea.choices).get(t, t), etiquetas_estado.get(e, e), n) for t, e, n in r.tareas],
        "graficos": {
            "por_hora": graficos.alertas_por_hora(r.alertas_por_hora),
            "respuesta": graficos.tiempos_de_respuesta(r.respuestas_s),
            "estados": graficos.tareas_por_estado(r.tareas, etiquetas_estado),
            "mapa": graficos.mapa_de_alertas(r.puntos_alertas, _contorno(unidad)),
        },
        "km_total": sum(d["km"] for d in r.distancias),
        "horas_servicio": sum(s["horas_servicio"] for s in r.servicio),
        "total_tareas": sum(n for _, _, n in r.tareas),
    }
    if formato == "pdf":
        return HttpResponse(
            pdf.pdf_de(render_to_string("reportes/unidad.html", contexto, request=request)),
            content_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{_nombre(r, unidad, "pdf")}"'},
        )
    return render(request, "reportes/unidad.html", contexto)


def _nombre(r: selectors.Reporte, unidad: Unidad, extension: str) -> str:
    d, h = timezone.localtime(r.desde), timezone.localtime(r.hasta)
    return f"reporte-{unidad.codigo}-{d:%Y%m%d-%H%M}-{h:%Y%m%d-%H%M}.{extension}"


# The CSV tables (?formato=csv&tabla=...): each opens as a spreadsheet, a header row and one row
# per item; numbers as numbers (a dot for decimals), times in seconds.
TABLAS = ("resumen", "efectivos", "tareas", "alertas")


def _csv(r: selectors.Reporte, unidad: Unidad, tabla: str) -> HttpResponse:
    tipos, estados = dict(TipoTarea.choices), dict(EstadoTarea.choices)
    if tabla == "efectivos":
        encabezado = ["codigo", "efectivo", "horas_en_servicio", "horas_en_tarea", "horas_fuera_de_servicio"]
        encabezado += ["lecturas", "km"]
        filas = [
            [
                e["codigo"],
                e["nombre"],
                round(e["horas_servicio"], 3),
                round(e["horas_en_tarea"], 3),
                round(e["horas_fuera"], 3),
                e["lecturas"],
                round(e["km"], 3),
            ]
            for e in r.servicio
        ]
    elif tabla == "tareas":
        encabezado = ["tipo", "estado", "cantidad"]
        filas = [[tipos.get(t, t), estados.get(e, e), n] for t, e, n in r.tareas]
    elif tabla == "alertas":
        encabezado = ["geocerca", "tipo", "alertas", "repeticiones", "reconocidas", "reconocer_p50_s"]
        encabezado += ["reconocer_p90_s", "escaladas"]
        filas = [[a[k] for k in ("geocerca", "tipo", "alertas", "repeticiones", "reconocidas")] for a in r.alertas]
        for fila, a in zip(filas, r.alertas, strict=True):
            fila += [a["reconocer_p50_s"], a["reconocer_p90_s"], a["escaladas"]]
    else:
        encabezado = ["indicador", "valor"]
        filas = [
            ["tareas_creadas", sum(n for _, _, n in r.tareas)],
            *([f"asignaciones_{k}", v] for k, v in r.asignaciones.items()),
            *([f"finalizar_{k}", v] for k, v in r.finalizar.items()),
            ["horas_en_servicio", round(sum(e["horas_servicio"] for e in r.servicio), 3)],
            ["km_recorridos", round(sum(d["km"] for d in r.distancias), 3)],
            *([f"sin_reporte_{k}", v] for k, v in r.sin_reporte.items()),
        ]
    cuerpo = "".join(exportes.csv_filas(encabezado, filas))
    nombre = _nombre(r, unidad, "csv").replace(".csv", f"-{tabla}.csv")
    return HttpResponse(
        cuerpo,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{nombre}"'},
    )
