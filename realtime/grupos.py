"""Group naming, in one place. An event names its audience with these; a socket joins the groups
its user may see. Channels group names allow ASCII letters, digits, '-', '_' and '.'."""

from __future__ import annotations

from efectivos.models import Rol, Usuario

ADMINS = "rol.administrador"
# Every commander, whatever their unidad: for things that concern all (an unscoped geocerca).
TODAS_LAS_UNIDADES = "rol.comandante"


def unidad(unidad_id: int) -> str:
    return f"unidad.{unidad_id}"


def efectivo(efectivo_id: int) -> str:
    return f"efectivo.{efectivo_id}"


def de_usuario(usuario: Usuario) -> list[str]:
    """The groups a user's sockets join: what that user is entitled to see."""
    if usuario.is_superuser or usuario.rol == Rol.ADMINISTRADOR:
        return [ADMINS]
    if usuario.rol == Rol.COMANDANTE and usuario.unidad_id:
        return [unidad(usuario.unidad_id), TODAS_LAS_UNIDADES]
    efectivo_id = getattr(getattr(usuario, "efectivo", None), "pk", None)
    return [efectivo(efectivo_id)] if efectivo_id else []


def mando_de_unidad(unidad_id: int) -> list[str]:
    """Admins and the commanders of one unidad."""
    return [ADMINS, unidad(unidad_id)]


def de_efectivo(*, efectivo_id: int, unidad_id: int) -> list[str]:
    """An efectivo's own sockets plus those who command them."""
    return [ADMINS, unidad(unidad_id), efectivo(efectivo_id)]
