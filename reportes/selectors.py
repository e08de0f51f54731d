"""The figures of a unidad's report for a period, from one set of SQL selectors (tested against
hand-computed values on fixed data in tests/reportes/). Times are seconds; distances km."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from gad_project import bd


def _filas(sql: str, params: list[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    with bd.cursor_tolerante() as c:  # reports tolerate the replica's lag
        c.execute(sql, params)
        return list(c.fetchall())


def _fila(sql: str, params: list[Any] | dict[str, Any]) -> tuple[Any, ...]:
    return _filas(sql, params)[0]


@dataclass
class Reporte:
    unidad_id: int
    desde: datetime
    hasta: datetime
    tareas: list[tuple[str, str, int]] = field(default_factory=list)  # tipo, estado, cuántas
    asignaciones: dict[str, Any] = field(default_factory=dict)
    finalizar: dict[str, Any] = field(default_factory=dict)
    alertas: list[dict[str, Any]] = field(default_factory=list)
    alertas_por_hora: list[tuple[datetime, int]] = field(default_factory=list)
    respuestas_s: list[float] = field(default_factory=list)  # each accepted assignment's time to accept
    distancias: list[dict[str, Any]] = field(default_factory=list)
    servicio: list[dict[str, Any]] = field(default_factory=list)  # each efectivo's hours by state
    sin_reporte: dict[str, Any] = field(default_factory=dict)
    puntos_alertas: list[tuple[float, float, str]] = field(default_factory=list)


# A duration below zero (answered or arrived "before" being assigned) is a data error: counted
# and shown as such, never averaged in.
_SQL_ASIGNACIONES = """
SELECT count(*),
       count(*) FILTER (WHERE a.respondida_en IS NOT NULL AND a.estado <> 'rechazada'),
       count(*) FILTER (WHERE a.estado = 'rechazada'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.respondida_en - a.asignada_en))
           FILTER (WHERE a.respondida_en >= a.asignada_en AND a.estado <> 'rechazada'),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.respondida_en - a.asignada_en))
           FILTER (WHERE a.respondida_en >= a.asignada_en AND a.estado <> 'rechazada'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.llegada_en - a.asignada_en))
           FILTER (WHERE a.llegada_en >= a.asignada_en),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.llegada_en - a.asignada_en))
           FILTER (WHERE a.llegada_en >= a.asignada_en),
       count(*) FILTER (WHERE a.llegada_en IS NOT NULL),
       -- Timed out: released by the sweep past its deadline, never answered (the reason itself is
       -- encrypted at rest, gad_project.cifrado).
       count(*) FILTER (WHERE a.estado = 'liberada' AND a.respondida_en IS NULL AND a.liberada_en >= a.vence_en),
       count(*) FILTER (WHERE a.asignada_por_id IS NULL OR EXISTS (
           SELECT 1 FROM tareas_asignacion b
           WHERE b.tarea_id = a.tarea_id AND b.id < a.id AND b.estado IN ('rechazada', 'liberada'))),
       count(DISTINCT a.tarea_id),
       count(*) FILTER (WHERE a.respondida_en < a.asignada_en OR a.llegada_en < a.asignada_en)
FROM tareas_asignacion a JOIN tareas_tarea t ON t.id = a.tarea_id
WHERE t.unidad_id = %s AND a.asignada_en >= %s AND a.asignada_en < %s
"""

_SQL_FINALIZAR = """
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.fin_real - t.creada_en)),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.fin_real - t.creada_en))
FROM tareas_tarea t
WHERE t.unidad_id = %s AND t.estado = 'finalizada' AND t.creada_en >= %s AND t.creada_en < %s
"""

_SQL_ALERTAS = """
SELECT g.nombre, a.tipo, count(*), sum(a.repeticiones)::int,
       count(*) FILTER (WHERE a.reconocida_en IS NOT NULL),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.reconocida_en - a.ocurrida_en))
           FILTER (WHERE a.reconocida_en IS NOT NULL),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.reconocida_en - a.ocurrida_en))
           FILTER (WHERE a.reconocida_en IS NOT NULL),
       count(*) FILTER (WHERE a.escalada_en IS NOT NULL)
FROM geocercas_alerta a
JOIN geocercas_geocerca g ON g.id = a.geocerca_id
JOIN efectivos_efectivo e ON e.id = a.efectivo_id
WHERE e.unidad_id = %s AND a.ocurrida_en >= %s AND a.ocurrida_en < %s
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
"""

# Each efectivo's path in the period: the sum of the distances between consecutive plausible
# readings (device-time order), on the spheroid.
# Kilometres patrolled, from accepted fixes only (implausible ones are left out), with GPS noise
# removed:
# - a spike (a fix farther than REPORTE_PICO_M from both neighbours, which are close to each other:
#   out and back at least three times the direct way) is dropped: a multipath jump or an accuracy
#   that lies, plausible in speed, is not a walk there and back. Unless both neighbours are
#   REPORTE_PICO_MAX_S or more away in time and the detour is slower than REPORTE_PICO_KMH: a
#   minute apart, the officer may have gone there and back (out of the perimeter, into a block),
#   though not a kilometre away and back in two minutes;
# - each efectivo's other fixes in device-time order form a line in local metres (equirectangular
#   about their mean latitude: under 0.1 % off within a city), and a fix counts only once it is
#   more than REPORTE_JITTER_M from the last one kept (ST_RemoveRepeatedPoints compares each point
#   with the last kept): an officer standing still for an hour adds nothing, a walk with a fix a
#   second is measured by its steps of that length, not by every wobble.
# Measured against ground truth by `manage.py verdad_terreno`.
_SQL_DISTANCIAS = """
WITH q AS (
    SELECT p.efectivo_id, p.id, p.registrada_en, p.punto, ST_X(p.punto) AS x, ST_Y(p.punto) AS y,
           lag(ST_X(p.punto)) OVER w AS xa, lag(ST_Y(p.punto)) OVER w AS ya,
           lead(ST_X(p.punto)) OVER w AS xs, lead(ST_Y(p.punto)) OVER w AS ys,
           least(p.registrada_en - lag(p.registrada_en) OVER w, lead(p.registrada_en) OVER w - p.registrada_en)
               AS hueco,
           extract(epoch FROM lead(p.registrada_en) OVER w - lag(p.registrada_en) OVER w) AS lapso
    FROM efectivos_posicion p JOIN efectivos_efectivo e ON e.id = p.efectivo_id
    WHERE e.unidad_id = %s AND p.registrada_en >= %s AND p.registrada_en < %s AND NOT p.implausible
    WINDOW w AS (PARTITION BY p.efectivo_id ORDER BY p.registrada_en, p.id)
), m AS (
    SELECT q.*,
           sqrt(((x - xa) * cos(radians(y)) * 111319.49) ^ 2 + ((y - ya) * 110574.27) ^ 2) AS ida,
           sqrt(((xs - x) * cos(radians(y)) * 111319.49) ^ 2 + ((ys - y) * 110574.27) ^ 2) AS vuelta,
           sqrt(((xs - xa) * cos(radians(y)) * 111319.49) ^ 2 + ((ys - ya) * 110574.27) ^ 2) AS directo
    FROM q
), p AS (
    SELECT efectivo_id, count(*) AS n, avg(y) AS lat,
           ST_MakeLine(punto ORDER BY registrada_en, id)
               FILTER (WHERE NOT coalesce(ida > %s AND vuelta > %s AND ida + vuelta > 3 * directo
                                          AND (hueco < make_interval(secs => %s)
                                               OR (ida + vuelta - directo) / nullif(lapso, 0) * 3.6 > %s), false)) AS linea
    FROM m
    GROUP BY efectivo_id
)
SELECT e.id, e.codigo_interno, e.apellido || ', ' || e.nombre, p.n,
       coalesce(ST_Length(ST_RemoveRepeatedPoints(
           ST_Scale(p.linea, 111319.49 * cos(radians(p.lat)), 110574.27), %s)), 0) / 1000.0 AS km
FROM p JOIN efectivos_efectivo e ON e.id = p.efectivo_id
ORDER BY 5 DESC, 2
"""

_SQL_SIN_REPORTE = """
SELECT count(*), count(DISTINCT s.efectivo_id),
       coalesce(sum(extract(epoch FROM least(coalesce(s.cerrado_en, now()), %s) - greatest(s.creado_en, %s))), 0) / 3600.0
FROM seguridad_sinreporte s JOIN efectivos_efectivo e ON e.id = s.efectivo_id
WHERE e.unidad_id = %s AND s.creado_en < %s AND coalesce(s.cerrado_en, now()) > %s
"""


# Each efectivo's hours in each availability state over the period, from the audit trail (every
# change of `estado`, through any interface, is an entry with its before and after). The state at
# the start is the last change's "after" before it, else the first later change's "before", else
# the current state; the period ends at `hasta` or now, whichever is earlier.
_SQL_SERVICIO = """
WITH e AS (
    SELECT id, codigo_interno AS codigo, apellido || ', ' || nombre AS nombre, estado
    FROM efectivos_efectivo WHERE unidad_id = %(unidad)s
), c AS (
    SELECT r.object_pk::bigint AS efectivo_id, r.timestamp AS en, r.id,
           r.changes -> 'estado' ->> 0 AS antes, r.changes -> 'estado' ->> 1 AS despues
    FROM auditoria_registro r
    WHERE r.content_type_id = %(tipo)s AND r.object_pk IN (SELECT id::text FROM e)
      AND r.changes ? 'estado' AND r.timestamp < %(fin)s
), tramos AS (
    SELECT e.id AS efectivo_id, %(desde)s::timestamptz AS en, 0::bigint AS orden, coalesce(
        (SELECT despues FROM c WHERE c.efectivo_id = e.id AND c.en <= %(desde)s ORDER BY c.en DESC, c.id DESC LIMIT 1),
        (SELECT antes FROM c WHERE c.efectivo_id = e.id AND c.en > %(desde)s ORDER BY c.en, c.id LIMIT 1),
        e.estado) AS estado
    FROM e
    UNION ALL
    SELECT efectivo_id, en, id, despues FROM c WHERE en > %(desde)s
), duraciones AS (
    SELECT efectivo_id, estado,
           extract(epoch FROM coalesce(lead(en) OVER (PARTITION BY efectivo_id ORDER BY en, orden), %(fin)s) - en) AS s
    FROM tramos
)
SELECT e.id, e.codigo, e.nombre,
       coalesce(sum(d.s) FILTER (WHERE d.estado IN ('disponible', 'en_tarea')), 0) / 3600.0,
       coalesce(sum(d.s) FILTER (WHERE d.estado = 'en_tarea'), 0) / 3600.0,
       coalesce(sum(d.s) FILTER (WHERE d.estado NOT IN ('disponible', 'en_tarea')), 0) / 3600.0
FROM e JOIN duraciones d ON d.efectivo_id = e.id
GROUP BY 1, 2, 3
ORDER BY 4 DESC, 2
"""


# Each efectivo's hours on duty over the period, from the roster and sign-on/off (#30): a shift
# counts from its start (or an earlier sign-on) to its end (or an earlier sign-off), cut to the
# period. An officer's shifts never overlap (an exclusion constraint), so they add up.
_SQL_TURNOS = """
SELECT t.efectivo_id, sum(extract(epoch FROM
           least(coalesce(t.fin_real, t.fin), %(fin)s)
           - greatest(least(t.inicio, coalesce(t.inicio_real, t.inicio)), %(desde)s))) / 3600.0
FROM efectivos_turno t JOIN efectivos_efectivo e ON e.id = t.efectivo_id
WHERE e.unidad_id = %(unidad)s
  AND coalesce(t.fin_real, t.fin) > %(desde)s
  AND least(t.inicio, coalesce(t.inicio_real, t.inicio)) < %(fin)s
GROUP BY 1
"""


def reporte_unidad(*, unidad_id: int, desde: datetime, hasta: datetime) -> Reporte:
    r = Reporte(unidad_id, desde, hasta)
    periodo = [unidad_id, desde, hasta]
    r.tareas = [
        (tipo, estado, n)
        for tipo, estado, n in _filas(
            "SELECT tipo, estado, count(*) FROM tareas_tarea WHERE unidad_id = %s AND creada_en >= %s "
            "AND creada_en < %s GROUP BY 1, 2 ORDER BY 1, 2",
            periodo,
        )
    ]
    (total, aceptadas, rechazadas, a50, a90, l50, l90, llegadas, vencidas, redespachos, tareas, negativas) = _fila(
        _SQL_ASIGNACIONES, periodo
    )
    r.asignaciones = {
        "total": total,
        "aceptadas": aceptadas,
        "rechazadas": rechazadas,
        "exito": (aceptadas / total) if total else None,
        "aceptar_p50_s": a50,
        "aceptar_p90_s": a90,
        "llegadas": llegadas,
        "llegar_p50_s": l50,
        "llegar_p90_s": l90,
        "vencidas": vencidas,
        "redespachos": redespachos,
        "redespachos_por_tarea": (redespachos / tareas) if tareas else None,
        "duraciones_negativas": negativas,
    }
    r.respuestas_s = [
        float(s)
        for (s,) in _filas(
            "SELECT extract(epoch FROM a.respondida_en - a.asignada_en) FROM tareas_asignacion a "
            "JOIN tareas_tarea t ON t.id = a.tarea_id WHERE t.unidad_id = %s AND a.asignada_en >= %s "
            "AND a.asignada_en < %s AND a.respondida_en >= a.asignada_en AND a.estado <> 'rechazada'",
            periodo,
        )
    ]
    n, f50, f90 = _fila(_SQL_FINALIZAR, periodo)
    r.finalizar = {"finalizadas": n, "p50_s": f50, "p90_s": f90}
    r.alertas = [
        {
            "geocerca": g,
            "tipo": tipo,
            "alertas": n,
            "repeticiones": rep,
            "reconocidas": rec,
            "reconocer_p50_s": p50,
            "reconocer_p90_s": p90,
            "escaladas": esc,
        }
        for g, tipo, n, rep, rec, p50, p90, esc in _filas(_SQL_ALERTAS, periodo)
    ]
    por_hora = dict(
        _filas(
            "SELECT date_trunc('hour', a.ocurrida_en AT TIME ZONE %s), count(*) FROM geocercas_alerta a "
            "JOIN efectivos_efectivo e ON e.id = a.efectivo_id WHERE e.unidad_id = %s AND a.ocurrida_en >= %s "
            "AND a.ocurrida_en < %s GROUP BY 1",
            [settings.TIME_ZONE, *periodo],
        )
    )
    hora = timezone.localtime(desde).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    fin = timezone.localtime(hasta).replace(tzinfo=None)
    while hora < fin and len(r.alertas_por_hora) < 24 * 31:
        r.alertas_por_hora.append((hora, por_hora.get(hora, 0)))
        hora += timedelta(hours=1)
    r.puntos_alertas = [
        (x, y, sev)
        for x, y, sev in _filas(
            "SELECT ST_X(a.punto), ST_Y(a.punto), a.severidad FROM geocercas_alerta a "
            "JOIN efectivos_efectivo e ON e.id = a.efectivo_id WHERE e.unidad_id = %s AND a.ocurrida_en >= %s "
            "AND a.ocurrida_en < %s AND a.punto IS NOT NULL LIMIT 5000",
            periodo,
        )
    ]
    r.distancias = [
        {"efectivo_id": i, "codigo": c, "nombre": nombre, "lecturas": n, "km": float(km)}
        for i, c, nombre, n, km in _filas(
            _SQL_DISTANCIAS,
            [
                *periodo,
                settings.REPORTE_PICO_M,
                settings.REPORTE_PICO_M,
                settings.REPORTE_PICO_MAX_S,
                settings.REPORTE_PICO_KMH,
                settings.REPORTE_JITTER_M,
            ],
        )
    ]
    from django.contrib.contenttypes.models import ContentType

    from efectivos.models import Efectivo

    lecturas = {d["efectivo_id"]: d for d in r.distancias}
    fin = min(hasta, timezone.now())
    periodo_h = max((fin - desde).total_seconds(), 0) / 3600
    turnos = dict(_filas(_SQL_TURNOS, {"unidad": unidad_id, "desde": desde, "fin": fin}))
    # On duty: the shifts. On a task: the availability states (the audit trail). Off duty: the rest.
    r.servicio = [
        {
            "efectivo_id": i,
            "codigo": c,
            "nombre": nombre,
            "horas_servicio": float(turnos.get(i, 0)),
            "horas_en_tarea": float(en_tarea),
            "horas_fuera": max(periodo_h - float(turnos.get(i, 0)), 0.0),
            "lecturas": lecturas[i]["lecturas"] if i in lecturas else 0,
            "km": lecturas[i]["km"] if i in lecturas else 0.0,
        }
        for i, c, nombre, _disponible, en_tarea, _fuera in _filas(
            _SQL_SERVICIO,
            {
                "unidad": unidad_id,
                "tipo": ContentType.objects.get_for_model(Efectivo).pk,
                "desde": desde,
                "fin": fin,
            },
        )
    ]
    r.servicio.sort(key=lambda e: (-e["horas_servicio"], e["codigo"]))
    silencios, efectivos, horas = _fila(_SQL_SIN_REPORTE, [hasta, desde, unidad_id, hasta, desde])
    r.sin_reporte = {"avisos": silencios, "efectivos": efectivos, "horas": float(horas)}
    return r
