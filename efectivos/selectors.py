"""Reads of people and positions. Scoping — what a user may see — is decided here, once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import QuerySet

from efectivos.alcance import Solicitante, alcance_de
from efectivos.models import Efectivo, Rol, Unidad
from gad_project import bd
from gad_project.exceptions import NoEncontrado


def rol_de(usuario: Solicitante) -> str | None:
    if not usuario.is_authenticated:
        return None
    return Rol.ADMINISTRADOR if usuario.is_superuser else usuario.rol


def unidades_visibles(*, usuario: Solicitante) -> QuerySet[Unidad]:
    """Admins: all; a commander: theirs; an efectivo: their own (efectivos.alcance)."""
    return Unidad.objects.filter(alcance_de(usuario).filtro_unidad("pk"))


def efectivo_de(*, usuario: Solicitante) -> Efectivo | None:
    """The efectivo record of a user, or None (admins and commanders usually have none)."""
    if isinstance(usuario, AnonymousUser):
        return None
    try:
        return usuario.efectivo
    except Efectivo.DoesNotExist:
        return None


def efectivos_visibles(*, usuario: Solicitante) -> QuerySet[Efectivo]:
    """Admins see everyone; a commander sees their unidad; an efectivo sees only themself."""
    return Efectivo.objects.filter(alcance_de(usuario).filtro_efectivos())


def efectivo_visible(*, usuario: Solicitante, efectivo_id: int) -> Efectivo:
    """One efectivo the user may see; NoEncontrado otherwise (never reveal that it exists)."""
    efectivo = efectivos_visibles(usuario=usuario).select_related("unidad").filter(pk=efectivo_id).first()
    if efectivo is None:
        raise NoEncontrado("Efectivo inexistente o fuera de su alcance.")
    return efectivo


@dataclass(frozen=True)
class Recorrido:
    # lon, lat, device time, implausible, who posted it for the efectivo (a username, or None:
    # their own account or device); oldest first
    puntos: list[tuple[float, float, datetime, bool, str | None]]
    lecturas: int  # readings in the window (more than `puntos` when thinned)


# Thinned in PostgreSQL: only the rows kept cross the wire. Every `paso`-th reading, the last one
# (where they are), and every implausible one or one posted by someone else (few by nature, and
# what an investigator looks for).
_SQL_RECORRIDO = """
WITH f AS (
    SELECT p.punto, p.registrada_en, p.implausible, p.registrada_por_id,
           row_number() OVER (ORDER BY p.registrada_en, p.id) AS n, count(*) OVER () AS total
    FROM efectivos_posicion p
    WHERE p.efectivo_id = %(efectivo)s AND p.registrada_en >= %(desde)s AND p.registrada_en <= %(hasta)s
)
SELECT ST_X(f.punto), ST_Y(f.punto), f.registrada_en, f.implausible, u.username, f.total
FROM f LEFT JOIN efectivos_usuario u ON u.id = f.registrada_por_id
WHERE (f.n - 1) %% GREATEST(1, ceil(f.total::float8 / %(maximo)s))::bigint = 0
   OR f.n = f.total OR f.implausible OR f.registrada_por_id IS NOT NULL
ORDER BY f.n
"""


def recorrido_de(*, efectivo_id: int, desde: datetime, hasta: datetime, max_puntos: int = 5000) -> Recorrido:
    """An efectivo's readings between two device times, in order, thinned evenly to at most about
    `max_puntos` (plus the few always kept: see _SQL_RECORRIDO)."""
    with connection.cursor() as c:
        c.execute(_SQL_RECORRIDO, {"efectivo": efectivo_id, "desde": desde, "hasta": hasta, "maximo": max_puntos})
        filas = c.fetchall()
    return Recorrido([(lon, lat, t, mala, por) for lon, lat, t, mala, por, _ in filas], filas[0][5] if filas else 0)


# A track row of recorridos_filas, by name.
CAMPOS_RECORRIDO = (
    "efectivo_id",
    "codigo",
    "nombre",
    "lon",
    "lat",
    "registrada_en",
    "precision_m",
    "velocidad_kmh",
    "rumbo",
    "fuente",
    "implausible",
    "registrada_por",
)


def recorridos_filas(*, efectivos: QuerySet[Efectivo], desde: datetime, hasta: datetime) -> Iterator[tuple[Any, ...]]:
    """Every reading of `efectivos` between two device times, unthinned, ordered by efectivo and
    device time, as CAMPOS_RECORRIDO (`registrada_por` a username), streamed from a server-side
    cursor (the replica's when fit)."""
    subconsulta, params = efectivos.values("pk").query.sql_with_params()
    sql = f"""
        SELECT p.efectivo_id, e.codigo_interno, e.apellido || ', ' || e.nombre, ST_X(p.punto), ST_Y(p.punto),
               p.registrada_en, p.precision_m, p.velocidad_kmh, p.rumbo, p.fuente, p.implausible, u.username
        FROM efectivos_posicion p JOIN efectivos_efectivo e ON e.id = p.efectivo_id
             LEFT JOIN efectivos_usuario u ON u.id = p.registrada_por_id
        WHERE p.efectivo_id IN ({subconsulta}) AND p.registrada_en >= %s AND p.registrada_en <= %s
        ORDER BY p.efectivo_id, p.registrada_en, p.id
    """
    return bd.filas_por_bloques(sql, [*params, desde, hasta])
