"""Reads for tasks and dispatch: scoping, and the nearest available efectivos."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from efectivos.alcance import Solicitante, alcance_de, exigir_mando
from efectivos.selectors import efectivo_de
from tareas.models import EstadisticaUnidad, EstadoAsignacion, Tarea, TareaEvento


def tareas_visibles(*, usuario: Solicitante) -> QuerySet[Tarea]:
    """Admins: all. Commanders: their unidad's. Efectivos: the tasks they are assigned to."""
    alcance = alcance_de(usuario)
    if alcance.es_mando:
        return Tarea.objects.filter(alcance.filtro_unidad())
    if alcance.efectivo_id is not None:
        return Tarea.objects.filter(asignaciones__efectivo_id=alcance.efectivo_id).distinct()
    return Tarea.objects.none()


def mis_tareas(*, usuario: Solicitante) -> QuerySet[Tarea]:
    """An efectivo's open assignments (pending or accepted), most urgent first."""
    efectivo = efectivo_de(usuario=usuario)
    if efectivo is None:
        return Tarea.objects.none()
    return tareas_de_efectivo(efectivo_id=efectivo.pk)


def tareas_de_efectivo(*, efectivo_id: int) -> QuerySet[Tarea]:
    """The tasks an efectivo holds now (assignment pending or accepted), most urgent first."""
    return (
        Tarea.objects.filter(
            asignaciones__efectivo_id=efectivo_id,
            asignaciones__estado__in=[EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA],
        )
        .distinct()
        .order_by("-prioridad", "creada_en")
    )


def tarea_historial(*, tarea: Tarea) -> QuerySet[TareaEvento]:
    return tarea.eventos.select_related("usuario").order_by("id")


@dataclass(frozen=True)
class Cercano:
    efectivo_id: int
    distancia_m: float
    codigo_interno: str
    nombre: str
    unidad_id: int
    lat: float
    lon: float
    ultima_posicion_en: datetime


# KNN on the partial geography GiST index (efectivo_geog_disponible_gist): `<->` on geography is
# index-assisted and geodesic (sphere); the reported distance is the spheroid one. Stale fixes are
# filtered, not ranked. The radius, when given, cuts the k nearest afterwards: under row-level
# security (the web servers' role) PostGIS's functions are not LEAKPROOF, so an ST_DWithin in the
# scan's WHERE cannot become an index condition and the planner sorted every available efectivo
# (253 ms against 4 ms over HTTP, benchmarks/README.md); the ordered index scan is unaffected.
_SQL_CERCANOS = """
SELECT c.* FROM (
    SELECT e.id, ST_Distance(e.ultima_posicion::geography, p.g) AS distancia_m, e.codigo_interno,
           e.apellido || ', ' || e.nombre, e.unidad_id, ST_Y(e.ultima_posicion), ST_X(e.ultima_posicion),
           e.ultima_posicion_en
    FROM efectivos_efectivo e, (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g) p
    WHERE e.estado = 'disponible'
      AND e.ultima_posicion IS NOT NULL
      AND e.ultima_posicion_en >= %(fix_desde)s
      AND (%(unidad)s::bigint IS NULL OR e.unidad_id = %(unidad)s::bigint)
      AND (%(especialidad)s::text IS NULL OR e.especialidades @> ARRAY[%(especialidad)s::text]::varchar[])
      AND NOT (e.id = ANY(%(excluir)s::bigint[]))
    ORDER BY e.ultima_posicion::geography <-> p.g
    LIMIT %(k)s
) c
WHERE %(radio)s::float8 IS NULL OR c.distancia_m <= %(radio)s::float8
ORDER BY c.distancia_m
{bloqueo}
"""

# Dispatch claims what it ranks. Locking straight out of the KNN index scan failed now and then
# with PostgreSQL's "attempted to lock invisible tuple" under the full test suite; ranking the
# nearest candidates first (MATERIALIZED: the KNN index scan with its LIMIT stays as it is; inlined,
# the planner joined first and sorted every row, far slower: benchmarks/README.md) and then claiming them by
# primary key, nearest first, skipping those another dispatcher holds, does not. The state is
# re-checked on the locked row.
_SQL_RECLAMAR = (
    f"WITH c AS MATERIALIZED ({_SQL_CERCANOS.format(bloqueo='')}) "
    "SELECT c.* FROM c JOIN efectivos_efectivo e ON e.id = c.id "
    "WHERE e.estado = 'disponible' ORDER BY c.distancia_m LIMIT %(k_final)s "
    "FOR UPDATE OF e SKIP LOCKED"
)


def efectivos_cercanos(
    *,
    lat: float,
    lon: float,
    k: int,
    unidad_id: int | None = None,
    radio_m: float | None = None,
    especialidad: str | None = None,
    fix_max: timedelta | None = None,
    excluir: Sequence[int] = (),
    bloquear: bool = False,
    ahora: datetime | None = None,
) -> list[Cercano]:
    """The k nearest available efectivos with a recent fix, nearest first. With `bloquear`, the
    rows are claimed FOR UPDATE SKIP LOCKED (inside the caller's transaction): two dispatchers
    never get the same efectivo; each gets the nearest ones nobody else is taking."""
    fix_max = fix_max or timedelta(minutes=settings.DESPACHO_FIX_MAX_MIN)
    sql = _SQL_CERCANOS.format(bloqueo="")
    params = {
        "lat": lat,
        "lon": lon,
        "k": k,
        "unidad": unidad_id,
        "radio": radio_m,
        "especialidad": especialidad,
        "fix_desde": (ahora or timezone.now()) - fix_max,
        "excluir": list(excluir),
    }
    with connection.cursor() as cursor:
        if bloquear:
            cursor.execute(_SQL_RECLAMAR, {**params, "k": k + 20, "k_final": k})
        else:
            cursor.execute(sql, params)
        return [Cercano(*fila) for fila in cursor.fetchall()]


def cercano_datos(c: Cercano) -> dict[str, Any]:
    """A nearest efectivo as `GET /api/v1/efectivos/cercanos/` answers it (the DRF view and the
    lean path alike), its fix in the agency's zone."""
    return {
        "id": c.efectivo_id,
        "codigo_interno": c.codigo_interno,
        "nombre": c.nombre,
        "unidad": c.unidad_id,
        "distancia_m": round(c.distancia_m, 1),
        "lat": c.lat,
        "lon": c.lon,
        "ultima_posicion_en": timezone.localtime(c.ultima_posicion_en) if c.ultima_posicion_en else None,
    }


def alcance_de_despacho(*, usuario: Solicitante) -> int | None:
    """The unidad a dispatcher may take efectivos from (None: any, for admins)."""
    alcance = exigir_mando(usuario, "Solo comandantes o administradores despachan.")
    return None if alcance.todo else alcance.unidad_id


def estadisticas_unidades(*, usuario: Solicitante) -> QuerySet[EstadisticaUnidad]:
    from efectivos.selectors import unidades_visibles

    return EstadisticaUnidad.objects.filter(unidad__in=unidades_visibles(usuario=usuario)).order_by("codigo")


def efectivo_estadisticas(*, efectivo_id: int, desde: datetime) -> dict[str, Any]:
    """Tasks of one efectivo created since `desde`: how many in each state, mean worked time
    (start to end minus pauses) of finished ones, and the share finished among closed ones."""
    qs = Tarea.objects.filter(asignaciones__efectivo_id=efectivo_id, creada_en__gte=desde).distinct()
    por_estado = dict(qs.order_by().values_list("estado").annotate(n=Count("id", distinct=True)))
    trabajado = qs.filter(estado="finalizada", inicio_real__isnull=False, fin_real__isnull=False).aggregate(
        m=Avg(F("fin_real") - F("inicio_real") - Coalesce(F("tiempo_pausado"), timedelta(0)))
    )["m"]
    cerradas = por_estado.get("finalizada", 0) + por_estado.get("cancelada", 0)
    return {
        "por_estado": por_estado,
        "duracion_media_s": trabajado.total_seconds() if trabajado else None,
        "tasa_finalizacion": por_estado.get("finalizada", 0) / cerradas if cerradas else None,
    }


# A task row of tareas_exportar, by name (the last two are its place), and one of its history.
CAMPOS_TAREA = (
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
CAMPOS_HISTORIAL = ("evento_en", "estado_anterior", "estado_nuevo", "usuario", "motivo")


@dataclass(frozen=True)
class TareaExportada:
    fila: tuple[Any, ...]  # CAMPOS_TAREA
    historial: list[tuple[Any, ...]]  # CAMPOS_HISTORIAL, oldest first
    asignaciones: list[dict[str, Any]]


def tareas_exportar(tareas: QuerySet[Tarea]) -> Iterator[TareaExportada]:
    """Each task, oldest first, with its history and its assignments (three queries per block of
    500, whatever the number of tasks)."""
    qs = tareas.select_related("unidad").prefetch_related("eventos__usuario", "asignaciones__efectivo")
    for t in qs.order_by("creada_en", "id").iterator(chunk_size=500):
        yield TareaExportada(
            fila=(
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
            ),
            historial=[
                (
                    e.ocurrido_en,
                    e.estado_anterior,
                    e.estado_nuevo,
                    (e.usuario.get_full_name() or e.usuario.get_username()) if e.usuario else "",
                    e.motivo,
                )
                for e in t.eventos.all()
            ],
            asignaciones=[
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
        )
