"""Group naming, in one place. An event names its audience with these; a socket joins the groups
its user may see. Channels group names allow ASCII letters, digits, '-', '_' and '.'."""

from __future__ import annotations

import hashlib

from efectivos.alcance import alcance_de
from efectivos.models import Usuario

ADMINS = "rol.administrador"
# Every commander, whatever their unidad: for things that concern all (an unscoped geocerca).
TODAS_LAS_UNIDADES = "rol.comandante"


def unidad(unidad_id: int) -> str:
    return f"unidad.{unidad_id}"


def efectivo(efectivo_id: int) -> str:
    return f"efectivo.{efectivo_id}"


def usuario(usuario_id: int) -> str:
    """Every socket of one user, whatever they see: for control messages (access changed), never
    for events."""
    return f"usuario.{usuario_id}"


def sesion(session_key: str) -> str:
    """Every socket opened with one browser session (closed when it signs out). The key itself
    never leaves the process: the group is named by its hash."""
    return f"sesion.{hashlib.sha256(session_key.encode()).hexdigest()[:40]}"


def de_usuario(usuario: Usuario) -> list[str]:
    """The groups a user's sockets join: what that user is entitled to see (efectivos.alcance)."""
    alcance = alcance_de(usuario)
    if alcance.todo:
        return [ADMINS]
    if alcance.unidad_id is not None:
        return [unidad(alcance.unidad_id), TODAS_LAS_UNIDADES]
    return [efectivo(alcance.efectivo_id)] if alcance.efectivo_id is not None else []


def mando_de_unidad(unidad_id: int) -> list[str]:
    """Admins and the commanders of one unidad."""
    return [ADMINS, unidad(unidad_id)]


def de_efectivo(*, efectivo_id: int, unidad_id: int) -> list[str]:
    """An efectivo's own sockets plus those who command them."""
    return [ADMINS, unidad(unidad_id), efectivo(efectivo_id)]
