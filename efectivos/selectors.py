"""Reads of people and positions. Scoping — what a user may see — is decided here, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import QuerySet

from efectivos.alcance import Solicitante, alcance_de
from efectivos.models import Efectivo, Rol, Unidad
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
