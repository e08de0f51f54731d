"""Reads of people and positions. Scoping — what a user may see — is decided here, once."""

from __future__ import annotations

from django.contrib.gis.geos import Polygon
from django.db.models import QuerySet

from efectivos.models import Efectivo, Rol, Unidad, Usuario


def rol_de(usuario: Usuario) -> str | None:
    if not usuario.is_authenticated:
        return None
    return Rol.ADMINISTRADOR if usuario.is_superuser else usuario.rol


def unidades_visibles(*, usuario: Usuario) -> QuerySet[Unidad]:
    rol = rol_de(usuario)
    if rol == Rol.ADMINISTRADOR:
        return Unidad.objects.all()
    if rol == Rol.COMANDANTE:
        return Unidad.objects.filter(pk=usuario.unidad_id)
    if rol == Rol.EFECTIVO and (efectivo := efectivo_de(usuario=usuario)) is not None:
        return Unidad.objects.filter(pk=efectivo.unidad_id)
    return Unidad.objects.none()


def efectivo_de(*, usuario: Usuario) -> Efectivo | None:
    """The efectivo record of a user, or None (admins and commanders usually have none)."""
    try:
        return usuario.efectivo
    except Efectivo.DoesNotExist:
        return None


def efectivos_visibles(*, usuario: Usuario) -> QuerySet[Efectivo]:
    """Admins see everyone; a commander sees their unidad; an efectivo sees only themself."""
    rol = rol_de(usuario)
    qs = Efectivo.objects.all()
    if rol == Rol.ADMINISTRADOR:
        return qs
    if rol == Rol.COMANDANTE:
        return qs.filter(unidad_id=usuario.unidad_id)
    if rol == Rol.EFECTIVO:
        return qs.filter(usuario_id=usuario.pk)
    return qs.none()


def efectivos_listar(
    *,
    usuario: Usuario,
    estado: str | None = None,
    unidad_id: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> QuerySet[Efectivo]:
    qs = efectivos_visibles(usuario=usuario).select_related("unidad")
    if estado:
        qs = qs.filter(estado=estado)
    if unidad_id:
        qs = qs.filter(unidad_id=unidad_id)
    if bbox:
        qs = qs.filter(ultima_posicion__bboverlaps=Polygon.from_bbox(bbox))
    return qs.order_by("id")
