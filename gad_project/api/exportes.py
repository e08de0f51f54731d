"""`/api/v1/exportes/…`: tracks, alerts, tasks and geocercas as files GIS tools and spreadsheets
open (GPX, KML, GeoJSON, CSV), scoped by the caller's rights and streamed (gad_project.exportes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from auditoria.web import auditar_acceso
from efectivos.selectors import efectivos_visibles
from gad_project import exportes
from gad_project.api.params import param_fecha, param_int, param_opcion
from gad_project.exceptions import EntradaInvalida, NoEncontrado
from geocercas import formatos as geocercas_formatos
from geocercas.selectors import alertas_visibles, geocercas_visibles
from tareas.selectors import tareas_visibles


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


def _archivo(*formatos: str) -> dict:
    # GeoJSON is JSON (a FeatureCollection object); the others are files.
    return {
        (200, exportes.TIPOS[f][0].split(";")[0]): OpenApiTypes.OBJECT if f == "geojson" else OpenApiTypes.BINARY
        for f in formatos
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
            OpenApiParameter("formato", str, enum=list(exportes.RECORRIDO), required=True),
            OpenApiParameter("efectivo", int, many=True, description="Uno o varios; sin él, todos los del alcance"),
            *VENTANA,
        ],
        responses=_archivo(*exportes.RECORRIDO),
    )
    def get(self, request):
        formato = _formato(request, tuple(exportes.RECORRIDO))
        desde, hasta = _ventana(request)
        ids = _ids(request, "efectivo")
        unidad = param_int(request.query_params, "unidad", minimo=1, maximo=2**62)
        alcance = efectivos_visibles(usuario=request.user)
        if unidad is not None:
            alcance = alcance.filter(unidad_id=unidad)
        if ids:
            vistos = set(alcance.filter(pk__in=ids).values_list("pk", flat=True))
            if faltan := sorted(set(ids) - vistos):
                raise NoEncontrado("Efectivo inexistente o fuera de su alcance.", detalle={"efectivo": faltan})
            alcance = alcance.filter(pk__in=ids)
        subconsulta, params = alcance.values("pk").query.sql_with_params()
        sql = f"""
            SELECT p.efectivo_id, e.codigo_interno, e.apellido || ', ' || e.nombre, ST_X(p.punto), ST_Y(p.punto),
                   p.registrada_en, p.precision_m, p.velocidad_kmh, p.rumbo, p.fuente, p.implausible, u.username
            FROM efectivos_posicion p JOIN efectivos_efectivo e ON e.id = p.efectivo_id
                 LEFT JOIN efectivos_usuario u ON u.id = p.registrada_por_id
            WHERE p.efectivo_id IN ({subconsulta}) AND p.registrada_en >= %s AND p.registrada_en <= %s
            ORDER BY p.efectivo_id, p.registrada_en, p.id
        """
        auditar_exporte(
            request, "recorridos", formato, desde, hasta, efectivos=ids or "todos en el alcance", unidad=unidad
        )
        filas = exportes.filas(sql, [*params, desde, hasta])
        return exportes.respuesta(
            exportes.RECORRIDO[formato](filas), formato=formato, nombre=_nombre("recorridos", desde, hasta)
        )


ALERTA_CAMPOS = (
    "id",
    "tipo",
    "severidad",
    "estado",
    "geocerca",
    "efectivo_id",
    "efectivo",
    "unidad",
    "ocurrida_en",
    "ultima_en",
    "repeticiones",
    "cruce",
    "reconocida_en",
    "reconocida_por",
    "atendida_en",
    "atendida_por",
    "resuelta_en",
    "resuelta_por",
    "escalada_en",
    "lon",
    "lat",
)


class AlertasExportView(APIView):
    """Geofence alerts raised in the window, with their lifecycle (who acknowledged, attended and
    resolved them, and when): CSV one row per alert, GeoJSON one point per alert."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="exportes_alertas",
        tags=["exportes"],
        parameters=[OpenApiParameter("formato", str, enum=["csv", "geojson"], required=True), *VENTANA],
        responses=_archivo("csv", "geojson"),
    )
    def get(self, request):
        formato = _formato(request, ("csv", "geojson"))
        qs, desde, hasta, unidad = _del_periodo(
            request, alertas_visibles(usuario=request.user), fecha="ocurrida_en", unidad="efectivo__unidad_id"
        )
        qs = qs.select_related(
            "geocerca", "efectivo__unidad", "reconocida_por", "atendida_por", "resuelta_por"
        ).order_by("ocurrida_en", "id")
        auditar_exporte(request, "alertas", formato, desde, hasta, unidad=unidad)

        def quien(u) -> str:
            return (u.get_full_name() or u.get_username()) if u else ""

        def filas() -> Iterator[tuple]:
            for a in qs.iterator(chunk_size=exportes.BLOQUE_FILAS):
                yield (
                    a.pk,
                    a.tipo,
                    a.severidad,
                    a.estado,
                    a.geocerca.nombre,
                    a.efectivo_id,
                    str(a.efectivo),
                    a.efectivo.unidad.codigo,
                    a.ocurrida_en,
                    a.ultima_en,
                    a.repeticiones,
                    a.cruce,
                    a.reconocida_en,
                    quien(a.reconocida_por),
                    a.atendida_en,
                    quien(a.atendida_por),
                    a.resuelta_en,
                    quien(a.resuelta_por),
                    a.escalada_en,
                    a.punto.x if a.punto else None,
                    a.punto.y if a.punto else None,
                )

        if formato == "csv":
            partes = exportes.csv_filas(ALERTA_CAMPOS, filas())
        else:
            partes = exportes.geojson_features(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [f[-2], f[-1]]} if f[-1] is not None else None,
                    "properties": dict(zip(ALERTA_CAMPOS[:-2], f[:-2], strict=True)),
                }
                for f in filas()
            )
        return exportes.respuesta(partes, formato=formato, nombre=_nombre("alertas", desde, hasta))


TAREA_CAMPOS = (
    "id",
    "codigo",
    "titulo",
    "tipo",
    "prioridad",
    "estado",
    "unidad",
    "creada_en",
    "inicio_real",
    "fin_real",
    "lon",
    "lat",
)
HISTORIAL_CAMPOS = ("evento_en", "estado_anterior", "estado_nuevo", "usuario", "motivo")


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
        qs = qs.select_related("unidad").prefetch_related("eventos__usuario", "asignaciones__efectivo")
        qs = qs.order_by("creada_en", "id")
        auditar_exporte(request, "tareas", formato, desde, hasta, unidad=unidad)

        def base(t) -> tuple:
            return (
                t.pk,
                t.codigo,
                t.titulo,
                t.tipo,
                t.prioridad,
                t.estado,
                t.unidad.codigo,
                t.creada_en,
                t.inicio_real,
                t.fin_real,
                t.ubicacion.x if t.ubicacion else None,
                t.ubicacion.y if t.ubicacion else None,
            )

        def historial(t) -> list[tuple]:
            return [
                (
                    e.ocurrido_en,
                    e.estado_anterior,
                    e.estado_nuevo,
                    (e.usuario.get_full_name() or e.usuario.get_username()) if e.usuario else "",
                    e.motivo,
                )
                for e in t.eventos.all()
            ]

        tareas = qs.iterator(chunk_size=500)
        if formato == "csv":
            partes = exportes.csv_filas(
                TAREA_CAMPOS + HISTORIAL_CAMPOS, (base(t) + h for t in tareas for h in historial(t) or [("",) * 5])
            )
        else:
            partes = exportes.geojson_features(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [t.ubicacion.x, t.ubicacion.y]}
                    if t.ubicacion
                    else None,
                    "properties": {
                        **dict(zip(TAREA_CAMPOS[:-2], base(t)[:-2], strict=True)),
                        "historial": [dict(zip(HISTORIAL_CAMPOS, h, strict=True)) for h in historial(t)],
                        "asignaciones": [
                            {
                                "efectivo_id": a.efectivo_id,
                                "efectivo": str(a.efectivo),
                                "estado": a.estado,
                                "distancia_m": a.distancia_m,
                                "asignada_en": a.asignada_en,
                                "respondida_en": a.respondida_en,
                                "llegada_en": a.llegada_en,
                            }
                            for a in t.asignaciones.all()
                        ],
                    },
                }
                for t in tareas
            )
        return exportes.respuesta(partes, formato=formato, nombre=_nombre("tareas", desde, hasta))


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
            partes: Iterator[str] = exportes.geojson_features(
                geocercas_formatos.a_feature(g) for g in qs.iterator(chunk_size=200)
            )
        else:
            partes = geocercas_formatos.a_kml_varias(qs.iterator(chunk_size=200))
        ahora = timezone.localtime()
        return exportes.respuesta(partes, formato=formato, nombre=f"geocercas-{ahora:%Y%m%d-%H%M}")
