"""Reads for the commanders' map: the initial snapshot (built as JSON by PostgreSQL: 10,000
efectivos in one query, no ORM objects) and the operating area."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.gis.db.models import Extent

from efectivos.alcance import Solicitante
from efectivos.models import Unidad
from efectivos.selectors import unidades_visibles
from gad_project import bd
from mapa.tiles import AlcanceTeselas
from realtime.selectors import ultimo_id
from tareas.models import EstadoTarea

_SQL_EFECTIVOS = """
SELECT coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', e.id,
    'geometry', ST_AsGeoJSON(e.ultima_posicion, 6)::json,
    'properties', json_build_object(
        'id', e.id, 'codigo', e.codigo_interno, 'nombre', e.apellido || ', ' || e.nombre,
        'rango', e.rango, 'estado', e.estado, 'unidad_id', e.unidad_id, 'unidad', u.codigo,
        'estado_desde', (extract(epoch FROM e.estado_desde) * 1000)::bigint,
        'fix', (extract(epoch FROM e.ultima_posicion_en) * 1000)::bigint,
        'precision_m', e.ultima_precision_m,
        -- The lowest battery among their phones heard from in the last hour (null: none).
        'bateria', (SELECT min(d.bateria_pct) FROM efectivos_dispositivo d
                    WHERE d.efectivo_id = e.id AND d.revocado_en IS NULL
                      AND d.ultimo_contacto_en > now() - interval '1 hour'))
) ORDER BY e.id), '[]')::text
FROM efectivos_efectivo e JOIN efectivos_unidad u ON u.id = e.unidad_id
WHERE e.ultima_posicion IS NOT NULL AND (%(unidad)s::bigint IS NULL OR e.unidad_id = %(unidad)s::bigint)
"""

_SQL_TAREAS = """
SELECT coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', t.id,
    'geometry', ST_AsGeoJSON(t.ubicacion, 6)::json,
    'properties', json_build_object(
        'id', t.id, 'codigo', t.codigo, 'titulo', t.titulo, 'tipo', t.tipo, 'prioridad', t.prioridad,
        'estado', t.estado, 'unidad_id', t.unidad_id)
) ORDER BY t.id), '[]')::text
FROM tareas_tarea t
WHERE t.ubicacion IS NOT NULL AND t.estado <> ALL(%(cerradas)s)
  AND (%(unidad)s::bigint IS NULL OR t.unidad_id = %(unidad)s::bigint)
"""

_SQL_UNIDADES = """
SELECT coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', u.id,
    'geometry', ST_AsGeoJSON(u.jurisdiccion, 6)::json,
    'properties', json_build_object('id', u.id, 'codigo', u.codigo, 'nombre', u.nombre)
) ORDER BY u.id), '[]')::text
FROM efectivos_unidad u
WHERE u.jurisdiccion IS NOT NULL AND u.id = ANY(%(unidades)s)
"""


def mapa_inicial(*, usuario: Solicitante, alcance: AlcanceTeselas) -> str:
    """The map's snapshot as a JSON document: `cursor` (the last event id *before* the snapshot
    was read: the socket resumes from it, so nothing between the two is missed; events replayed
    twice are harmless because the page applies positions only forward in device time), and
    FeatureCollections of efectivos, open tasks and jurisdictions."""
    # On the replica when there is a fit one — the cursor too, from the same source: the socket
    # replays from the primary whatever the replica had not applied yet.
    with bd.lectura_tolerante():
        cursor_id = ultimo_id()
    unidades = list(unidades_visibles(usuario=usuario).values_list("pk", flat=True))
    params = {"unidad": alcance.unidad_id, "cerradas": [EstadoTarea.FINALIZADA, EstadoTarea.CANCELADA]}
    with bd.cursor_tolerante() as cursor:
        cursor.execute(_SQL_EFECTIVOS, params)
        efectivos = cursor.fetchone()[0]
        cursor.execute(_SQL_TAREAS, params)
        tareas = cursor.fetchone()[0]
        cursor.execute(_SQL_UNIDADES, {"unidades": unidades})
        jurisdicciones = cursor.fetchone()[0]

    def fc(features: str) -> str:
        return '{"type":"FeatureCollection","features":' + features + "}"

    return (
        f'{{"cursor":{cursor_id},"efectivos":{fc(efectivos)},"tareas":{fc(tareas)},'
        f'"jurisdicciones":{fc(jurisdicciones)}}}'
    )


def zona_operativa(unidad_id: int | None = None) -> tuple[float, float, float, float]:
    """The bbox (lon/lat) of the unidades' jurisdictions, or a box around MAPA_CENTRO."""
    qs = Unidad.objects.filter(jurisdiccion__isnull=False)
    if unidad_id is not None:
        qs = qs.filter(pk=unidad_id)
    extent = qs.aggregate(e=Extent("jurisdiccion"))["e"]
    if extent:
        return tuple(extent)
    lon, lat = settings.MAPA_CENTRO
    return (lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1)


def tareas_actuales(*, usuario: Solicitante) -> list[dict[str, object]]:
    """Each efectivo in the user's scope on a live assignment of an open task, with that task
    (the newest if several): one query over the live assignments only."""
    from django.db.models import F

    from efectivos.alcance import alcance_de
    from tareas.models import ESTADOS_ABIERTOS, Asignacion, EstadoAsignacion

    filas = (
        Asignacion.objects.filter(
            alcance_de(usuario).filtro_efectivos("efectivo__"),
            estado__in=(EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA),
            tarea__estado__in=ESTADOS_ABIERTOS,
        )
        .order_by("efectivo_id", "-id")
        .distinct("efectivo_id")
        .values("efectivo_id", "tarea_id", codigo=F("tarea__codigo"), titulo=F("tarea__titulo"))
    )
    return [
        {"efectivo": f["efectivo_id"], "tarea": f["tarea_id"], "codigo": f["codigo"], "titulo": f["titulo"]}
        for f in filas
    ]


# --- the map's search box -------------------------------------------------------------------------

BUSCAR_MIN, BUSCAR_MAX, BUSCAR_POR_TIPO = 2, 100, 8


def buscar(*, usuario: Solicitante, q: str) -> list[dict[str, Any]]:
    """What the commander can see whose name or code holds every word of `q`, accents and case
    aside: efectivos (surname, name, code), tasks (code, title; open ones first) and geocercas
    (name); then the installed extract's streets, places and street intersections ("A y B",
    mapa.lugares). Each with where to fly: a point, or a box."""
    import unicodedata

    from django.contrib.gis.db.models.functions import Centroid
    from django.contrib.postgres.lookups import Unaccent
    from django.db.models import Case, CharField, IntegerField, Q, Value, When
    from django.db.models.functions import Concat, Lower

    from efectivos.selectors import efectivos_visibles
    from geocercas.selectors import geocercas_visibles
    from tareas.models import ESTADOS_ABIERTOS
    from tareas.selectors import tareas_visibles

    def normalizar(texto: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", texto.lower()) if not unicodedata.combining(c))

    palabras = [normalizar(p) for p in q.split()]

    def texto(*campos: str) -> Unaccent:
        """The fields as one lower-case, unaccented text: one unaccent() per row, not one per
        field and word."""
        if len(campos) == 1:
            return Unaccent(Lower(campos[0]))
        partes: list[Any] = []
        for campo in campos:
            partes += [campo, Value(" ")]
        return Unaccent(Lower(Concat(*partes[:-1], output_field=CharField())))

    def todas() -> Q:
        condicion = Q()
        for palabra in palabras:
            condicion &= Q(buscado__contains=palabra)
        return condicion

    resultados: list[dict[str, Any]] = []
    efectivos = (
        efectivos_visibles(usuario=usuario)  # `buscado`: the stored, unaccented search text
        .filter(todas())
        .annotate(
            exacto=Case(When(codigo_interno__iexact=q, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("exacto", "apellido", "nombre")
        .select_related("unidad")[:BUSCAR_POR_TIPO]
    )
    for e in efectivos:
        punto = e.ultima_posicion
        resultados.append(
            {
                "tipo": "efectivo",
                "id": e.pk,
                "titulo": f"{e.codigo_interno} · {e.apellido}, {e.nombre}",
                "detalle": f"{e.get_estado_display()} · {e.unidad.codigo}",
                "lon": punto.x if punto else None,
                "lat": punto.y if punto else None,
                "bbox": None,
            }
        )
    tareas = (
        tareas_visibles(usuario=usuario)
        .annotate(buscado=texto("codigo", "titulo"))
        .filter(todas())
        .annotate(
            abierta=Case(
                When(estado__in=ESTADOS_ABIERTOS, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("abierta", "-creada_en")[:BUSCAR_POR_TIPO]
    )
    for t in tareas:
        resultados.append(
            {
                "tipo": "tarea",
                "id": t.pk,
                "titulo": f"{t.codigo} · {t.titulo}",
                "detalle": t.get_estado_display(),
                "lon": t.ubicacion.x if t.ubicacion else None,
                "lat": t.ubicacion.y if t.ubicacion else None,
                "bbox": None,
            }
        )
    geocercas = (
        geocercas_visibles(usuario=usuario)
        .annotate(buscado=texto("nombre"))
        .filter(todas())
        .annotate(centro=Centroid("geom"))
        .order_by("nombre")[:BUSCAR_POR_TIPO]
    )
    for g in geocercas:
        resultados.append(
            {
                "tipo": "geocerca",
                "id": g.pk,
                "titulo": g.nombre,
                "detalle": g.get_tipo_display(),
                "lon": g.centro.x,
                "lat": g.centro.y,
                "bbox": list(g.geom.extent),
            }
        )
    from mapa import lugares

    return resultados + lugares.buscar(q, BUSCAR_POR_TIPO)
