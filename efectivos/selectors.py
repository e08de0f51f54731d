"""Reads of people and positions. Scoping — what a user may see — is decided here, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from efectivos.alcance import Solicitante, alcance_de
from efectivos.models import Efectivo, Posicion, Rol, Unidad
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
    puntos: list[tuple[float, float, datetime, bool]]  # lon, lat, device time, implausible; oldest first
    lecturas: int  # readings in the window (more than `puntos` when thinned)


def recorrido_de(*, efectivo_id: int, desde: datetime, hasta: datetime, max_puntos: int = 5000) -> Recorrido:
    """An efectivo's readings between two device times, in order, thinned evenly to at most
    `max_puntos` (the last reading is always kept: it is where they are; so is every implausible
    one, few by nature, so that the track shows them)."""
    filas = list(
        Posicion.objects.filter(efectivo_id=efectivo_id, registrada_en__gte=desde, registrada_en__lte=hasta)
        .order_by("registrada_en", "id")
        .values_list("punto", "registrada_en", "implausible")
    )
    paso = max(1, -(-len(filas) // max_puntos))
    elegidas = [f for i, f in enumerate(filas) if i % paso == 0 or f[2] or i == len(filas) - 1]
    return Recorrido([(p.x, p.y, t, implausible) for p, t, implausible in elegidas], len(filas))
