"""Who is acting and what they may touch.

`Alcance` is the scope value: everything (admins), one unidad (a commander), one efectivo (a field
officer), or nothing. `Actor` is what the ingest path needs to know about the caller, small enough
to cache between requests (see efectivos.asgi), and rebuilt from the database whenever the user or
their efectivo record changes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from efectivos.models import Efectivo, Rol, Usuario


@dataclass(frozen=True)
class Alcance:
    todo: bool = False
    unidad_id: int | None = None
    efectivo_id: int | None = None

    def incluye_efectivo(self, *, efectivo_id: int, unidad_id: int) -> bool:
        return (
            self.todo
            or (self.unidad_id is not None and unidad_id == self.unidad_id)
            or (self.efectivo_id is not None and efectivo_id == self.efectivo_id)
        )


NINGUNO = Alcance()


def alcance_de(usuario: Usuario, *, efectivo_id: int | None = None) -> Alcance:
    """Admins: everything; a commander: their unidad; an efectivo: themself; anyone else: nothing.
    `efectivo_id` is the user's own efectivo record, when the caller already knows it."""
    if not usuario.is_authenticated or not usuario.is_active:
        return NINGUNO
    if usuario.is_superuser or usuario.rol == Rol.ADMINISTRADOR:
        return Alcance(todo=True)
    if usuario.rol == Rol.COMANDANTE:
        return Alcance(unidad_id=usuario.unidad_id)
    if usuario.rol == Rol.EFECTIVO:
        if efectivo_id is None:
            efectivo_id = Efectivo.objects.filter(usuario_id=usuario.pk).values_list("pk", flat=True).first()
        return Alcance(efectivo_id=efectivo_id) if efectivo_id else NINGUNO
    return NINGUNO


@dataclass(frozen=True)
class Actor:
    """The caller of a write: their own efectivo record (if any), whether they command, and scope."""

    usuario_id: int
    activo: bool
    es_mando: bool
    efectivo_id: int | None
    alcance: Alcance

    def a_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def de_dict(cls, datos: dict[str, Any]) -> Actor:
        return cls(**{**datos, "alcance": Alcance(**datos["alcance"])})


def actor_de(usuario: Usuario) -> Actor:
    efectivo_id = Efectivo.objects.filter(usuario_id=usuario.pk).values_list("pk", flat=True).first()
    return Actor(
        usuario_id=usuario.pk,
        activo=usuario.is_active,
        es_mando=usuario.es_mando,
        efectivo_id=efectivo_id,
        alcance=alcance_de(usuario, efectivo_id=efectivo_id),
    )
