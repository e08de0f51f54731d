"""`/api/v1/exportes/…`: tracks, alerts, tasks and geocercas as files GIS tools and spreadsheets
open (GPX, KML, GeoJSON, CSV), scoped by the caller's rights and streamed (exportes.formatos); the rows come from the
selectors of the apps that own them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from auditoria.web import PARAMETROS_MOTIVO, auditar_acceso, motivo_de, parametros_motivo
from efectivos.selectors import efectivo_de, efectivos_visibles, recorridos_filas
from exportes import formatos, mis_datos
from gad_project.api.params import param_fecha, param_int, param_opcion
from gad_project.api.permissions import EsEfectivo
from gad_project.exceptions import EntradaInvalida, NoEncontrado
from geocercas import formatos as geocercas_formatos
from geocercas.selectors import CAMPOS_ALERTA, alertas_filas, alertas_visibles, geocercas_visibles
from tareas.selectors import CAMPOS_HISTORIAL, CAMPOS_TAREA, tareas_exportar, tareas_visibles


def auditar_exporte(request, que: str, formato: str, desde, hasta, **parametros) -> None:
    """An export is a sensitive read: recorded in the audit trail against the caller."""
    auditar_acceso(
        request,
        request.user,
        f"exporte de {que}",
        formato=formato,
        desde=desde.isoformat() if desde else None,
        hasta=hasta.isoformat() if hasta else None,
        **parametros,
    )


def _solo_propio(request, alcance, ids: list[int]) -> bool:
    """Whether the export holds only the caller's own data (no reason needed then)."""
    propios = list(alcance.filter(usuario_id=request.user.pk).values_list("pk", flat=True))
    if not propios:
        return False
    return set(ids) <= set(propios) if ids else not alcance.exclude(pk__in=propios).exists()


def _formato(request, opciones: tuple[str, ...]) -> str:
    formato = param_opcion(request.query_params, "formato", opciones)
    if formato is None:
        raise EntradaInvalida(
            f"Indique `formato`: {', '.join(opciones)}.",
            detalle={"formato": list(opciones)},
            codigo="parametro_invalido",
        )
    return formato


def _ventana(request, *, horas_defecto: int = 24) -> tuple[datetime, datetime]:
    """`desde`/`hasta` (ISO 8601 with zone); by default the last `horas_defecto` hours. Reversed
    or longer than EXPORTES_VENTANA_MAX_DIAS is a 400."""
    p = request.query_params
    hasta = param_fecha(p, "hasta") or timezone.now()
    desde = param_fecha(p, "desde") or hasta - timedelta(hours=horas_defecto)
    if desde >= hasta:
        raise EntradaInvalida(
            "`desde` debe ser anterior a `hasta`.", detalle={"desde": p.get("desde"), "hasta": p.get("hasta")}
        )
    maximo = timedelta(days=settings.EXPORTES_VENTANA_MAX_DIAS)
    if hasta - desde > maximo:
        raise EntradaInvalida(
            f"La ventana supera {settings.EXPORTES_VENTANA_MAX_DIAS} días: pida períodos más cortos.",
            detalle={"dias_max": settings.EXPORTES_VENTANA_MAX_DIAS},
        )
    return desde, hasta


def _del_periodo(request, qs, *, fecha: str, unidad: str):
    """The rows of the window (`desde`/`hasta` on `fecha`), of one unidad when asked."""
    desde, hasta = _ventana(request)
    qs = qs.filter(**{f"{fecha}__gte": desde, f"{fecha}__lte": hasta})
    unidad_id = param_int(request.query_params, "unidad", minimo=1, maximo=2**62)
    if unidad_id is not None:
        qs = qs.filter(**{unidad: unidad_id})
    return qs, desde, hasta, unidad_id


def _nombre(base: str, desde: datetime, hasta: datetime) -> str:
    d, h = timezone.localtime(desde), timezone.localtime(hasta)
    return f"{base}-{d:%Y%m%d-%H%M}-{h:%Y%m%d-%H%M}"


def _ids(request, nombre: str) -> list[int]:
    """Repeated (`?efectivo=1&efectivo=2`) or comma-separated ids."""
    crudos = [v for valor in request.query_params.getlist(nombre) for v in valor.split(",") if v.strip()]
    if len(crudos) > 1000:
        raise EntradaInvalida(f"Demasiados valores en `{nombre}` (máximo 1000).", codigo="parametro_invalido")
    return [param_int({nombre: v.strip()}, nombre, minimo=1, maximo=2**62, requerido=True) for v in crudos]


VENTANA = [
    OpenApiParameter(
        "desde", OpenApiTypes.DATETIME, description="ISO 8601 con zona; por defecto 24 h antes de `hasta`"
    ),
    OpenApiParameter("hasta", OpenApiTypes.DATETIME, description="ISO 8601 con zona; por defecto ahora"),
    OpenApiParameter("unidad", int, description="Solo esa unidad (dentro del alcance)"),
]


def _archivo(*tipos: str) -> dict:
    # GeoJSON is JSON (a FeatureCollection object); the others are files.
    return {
        (200, formatos.TIPOS[f][0].split(";")[0]): OpenApiTypes.OBJECT if f == "geojson" else OpenApiTypes.BINARY
        for f in tipos
    }


class RecorridosExportView(APIView):
    """One or several efectivos' readings in a time window (their device time), oldest first per
    efectivo: GPX and KML as one track per efectivo (implausible readings left out of the line),
    GeoJSON as one point per reading, CSV as one row per reading (implausible ones flagged)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="exportes_recorridos",
        tags=["exportes"],
        parameters=[
            OpenApiParameter("formato", str, enum=list(formatos.RECORRIDO), required=True),
            OpenApiParameter("efectivo", int, many=True, description="Uno o varios; sin él, todos los del alcance"),
            *VENTANA,
            *PARAMETROS_MOTIVO,
        ],
        responses=_archivo(*formatos.RECORRIDO),
    )
    def get(self, request):
        formato = _formato(request, tuple(formatos.RECORRIDO))
        desde, hasta = _ventana(request)
        ids = _ids(request, "efectivo")
        unidad = param_int(request.query_params, "unidad", minimo=1, maximo=2**62)
        alcance = efectivos_visibles(usuario=request.user)
        propio = _solo_propio(request, alcance, ids)
        motivo = motivo_de(request, clave=f"efectivo:{ids[0]}" if len(ids) == 1 else "exporte", propio=propio)
        if unidad is not None:
            alcance = alcance.filter(unidad_id=unidad)
        if ids:
            vistos = set(alcance.filter(pk__in=ids).values_list("pk", flat=True))
            if faltan := sorted(set(ids) - vistos):
                raise NoEncontrado("Efectivo inexistente o fuera de su alcance.", detalle={"efectivo": faltan})
            alcance = alcance.filter(pk__in=ids)
        auditar_exporte(
            request,
            "recorridos",
            formato,
            desde,
            hasta,
            # Whom it holds: each officer sees it in their accesses (GET /api/v1/yo/accesos/).
            efectivos=ids or list(alcance.values_list("pk", flat=True)),
            todos=not ids,
            unidad=unidad,
            **parametros_motivo(motivo),
        )
        filas = recorridos_filas(efectivos=alcance, desde=desde, hasta=hasta)
        return formatos.respuesta(
            formatos.RECORRIDO[formato](filas), formato=formato, nombre=_nombre("recorridos", desde, hasta)
        )


class AlertasExportView(APIView):
    """Geofence alerts raised in the window, with their lifecycle (who acknowledged, attended and
    resolved them, and when): CSV one row per alert, GeoJSON one point per alert."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="exportes_alertas",
        tags=["exportes"],
        parameters=[
            OpenApiParameter("formato", str, enum=["csv", "geojson"], required=True),
            *VENTANA,
            *PARAMETROS_MOTIVO,
        ],
        responses=_archivo("csv", "geojson"),
    )
    def get(self, request):
        formato = _formato(request, ("csv", "geojson"))
        propio = _solo_propio(request, efectivos_visibles(usuario=request.user), [])
        motivo = motivo_de(request, clave="exporte", propio=propio)
        qs, desde, hasta, unidad = _del_periodo(
            request, alertas_visibles(usuario=request.user), fecha="ocurrida_en", unidad="efectivo__unidad_id"
        )
        auditar_exporte(request, "alertas", formato, desde, hasta, unidad=unidad, **parametros_motivo(motivo))

        if formato == "csv":
            partes = formatos.csv_filas(CAMPOS_ALERTA, alertas_filas(qs))
        else:
            partes = formatos.geojson_features(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [f[-2], f[-1]]} if f[-1] is not None else None,
                    "properties": dict(zip(CAMPOS_ALERTA[:-2], f[:-2], strict=True)),
                }
                for f in alertas_filas(qs)
            )
        return formatos.respuesta(partes, formato=formato, nombre=_nombre("alertas", desde, hasta))


class TareasExportView(APIView):
    """Tasks created in the window with their history: CSV one row per change of each task (the
    task's fields repeated), GeoJSON one feature per task with its `historial` and `asignaciones`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="exportes_tareas",
        tags=["exportes"],
        parameters=[OpenApiParameter("formato", str, enum=["csv", "geojson"], required=True), *VENTANA],
        responses=_archivo("csv", "geojson"),
    )
    def get(self, request):
        formato = _formato(request, ("csv", "geojson"))
        qs, desde, hasta, unidad = _del_periodo(
            request, tareas_visibles(usuario=request.user), fecha="creada_en", unidad="unidad_id"
        )
        auditar_exporte(request, "tareas", formato, desde, hasta, unidad=unidad)
        tareas = tareas_exportar(qs)
        if formato == "csv":
            partes = formatos.csv_filas(
                CAMPOS_TAREA + CAMPOS_HISTORIAL,
                (t.fila + h for t in tareas for h in t.historial or [("",) * len(CAMPOS_HISTORIAL)]),
            )
        else:
            partes = formatos.geojson_features(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [t.fila[-2], t.fila[-1]]}
                    if t.fila[-1] is not None
                    else None,
                    "properties": {
                        **dict(zip(CAMPOS_TAREA[:-2], t.fila[:-2], strict=True)),
                        "historial": [dict(zip(CAMPOS_HISTORIAL, h, strict=True)) for h in t.historial],
                        "asignaciones": t.asignaciones,
                    },
                }
                for t in tareas
            )
        return formatos.respuesta(partes, formato=formato, nombre=_nombre("tareas", desde, hasta))


class GeocercasExportView(APIView):
    """The geocercas in scope (active and inactive), as GeoJSON or KML (corridors as their route,
    with `ancho_m`). They import back in the admin."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="exportes_geocercas",
        tags=["exportes"],
        parameters=[OpenApiParameter("formato", str, enum=["geojson", "kml"], required=True)],
        responses=_archivo("geojson", "kml"),
    )
    def get(self, request):
        formato = _formato(request, ("geojson", "kml"))
        qs = geocercas_visibles(usuario=request.user).order_by("nombre", "id")
        auditar_exporte(request, "geocercas", formato, None, None)
        if formato == "geojson":
            partes: Iterator[str] = formatos.geojson_features(
                geocercas_formatos.a_feature(g) for g in qs.iterator(chunk_size=200)
            )
        else:
            partes = geocercas_formatos.a_kml_varias(qs.iterator(chunk_size=200))
        ahora = timezone.localtime()
        return formatos.respuesta(partes, formato=formato, nombre=f"geocercas-{ahora:%Y%m%d-%H%M}")


class MisDatosView(APIView):
    """`GET /api/v1/yo/datos/?formato=json|csv[&seccion=…]`: everything GAD holds about the
    signed-in officer — readings, alerts, task assignments, messages and replies, and who read
    their data — as one JSON document, or one section as CSV."""

    permission_classes = [EsEfectivo]

    @extend_schema(
        operation_id="yo_datos",
        tags=["yo"],
        parameters=[
            OpenApiParameter("formato", str, enum=["json", "csv"], required=True),
            OpenApiParameter("seccion", str, enum=list(mis_datos.SECCIONES), description="Con `csv`: cuál"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        efectivo = efectivo_de(usuario=request.user)
        if efectivo is None:
            raise NoEncontrado("Su usuario no tiene legajo de efectivo.")
        formato = param_opcion(request.query_params, "formato", ("json", "csv"))
        if formato is None:
            raise EntradaInvalida(
                "Indique `formato`: json o csv.", detalle={"formato": ["json", "csv"]}, codigo="parametro_invalido"
            )
        auditar_acceso(request, efectivo, "descarga de sus propios datos", formato=formato)
        nombre = f"mis-datos-{efectivo.codigo_interno}-{timezone.localtime():%Y%m%d-%H%M}"
        if formato == "json":
            return formatos.respuesta(mis_datos.como_json(efectivo), formato="json", nombre=nombre)
        seccion = param_opcion(request.query_params, "seccion", mis_datos.SECCIONES)
        if seccion is None:
            raise EntradaInvalida(
                f"Con CSV, indique `seccion`: {', '.join(mis_datos.SECCIONES)}.",
                detalle={"seccion": list(mis_datos.SECCIONES)},
                codigo="parametro_invalido",
            )
        return formatos.respuesta(mis_datos.como_csv(efectivo, seccion), formato="csv", nombre=f"{nombre}-{seccion}")
