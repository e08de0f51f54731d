"""Who may see or do what, decided here once.

`Alcance` is the scope value: everything (admins), one unidad (a commander), one efectivo (a field
officer, who also belongs to a unidad), or nothing. Selectors filter through it, services call its
guards, and the channel groups, the tile scope and the dispatch scope derive from it; no other
module spells out the role ladder. `Actor` is what the ingest path needs to know about a caller,
small enough to cache between requests (posiciones.asgi) and rebuilt whenever the user or their
efectivo record changes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from rest_framework_simplejwt.utils import get_md5_hash_password

from efectivos.models import Efectivo, Rol, Usuario
from gad_project.exceptions import NoPermitido

_NINGUNO = Q(pk__in=[])


@dataclass(frozen=True)
class Alcance:
    todo: bool = False
    unidad_id: int | None = None  # the unidad a commander runs
    efectivo_id: int | None = None  # a field officer: themself
    unidad_propia: int | None = None  # a field officer's own unidad (fences that apply to them)

    @property
    def es_mando(self) -> bool:
        """Admins and commanders: the people who run operations."""
        return self.todo or self.unidad_id is not None

    @property
    def es_admin(self) -> bool:
        return self.todo

    @property
    def es_efectivo(self) -> bool:
        return self.efectivo_id is not None

    def manda_en(self, unidad_id: int | None) -> bool:
        """May command (create tasks, dispatch, edit fences) in this unidad."""
        return self.todo or (self.unidad_id is not None and unidad_id == self.unidad_id)

    def incluye_efectivo(self, *, efectivo_id: int, unidad_id: int) -> bool:
        return self.manda_en(unidad_id) or (self.efectivo_id is not None and efectivo_id == self.efectivo_id)

    def filtro_efectivos(self, prefijo: str = "") -> Q:
        """A Q over Efectivo (or, with `prefijo` "efectivo__", over rows that point to one)."""
        if self.todo:
            return Q()
        if self.unidad_id is not None:
            return Q(**{f"{prefijo}unidad_id": self.unidad_id})
        if self.efectivo_id is not None:
            return Q(**{f"{prefijo}pk" if prefijo else "pk": self.efectivo_id})
        return _NINGUNO

    def filtro_unidad(self, campo: str = "unidad_id") -> Q:
        """A Q over rows owned by a unidad that the user commands (or their own, for an efectivo)."""
        if self.todo:
            return Q()
        unidad = self.unidad_id if self.unidad_id is not None else self.unidad_propia
        return Q(**{campo: unidad}) if unidad is not None else _NINGUNO

    @property
    def clave(self) -> str | None:
        """A short name of the scope for cache keys (tiles): "todo", "u<unidad>", or None."""
        if self.todo:
            return "todo"
        return f"u{self.unidad_id}" if self.unidad_id is not None else None


NINGUNO = Alcance()

# Whoever a request carries: a user, or nobody signed in (whose scope is NINGUNO).
Solicitante = Usuario | AnonymousUser


def alcance_de(usuario: Solicitante, *, efectivo: Efectivo | None = None) -> Alcance:
    """Admins: everything; a commander: their unidad; an efectivo: themself; anyone else (also
    signed out or inactive): nothing. An efectivo's record is read through the user's cached
    one-to-one relation, so repeated calls in a request cost one query at most."""
    if isinstance(usuario, AnonymousUser) or not usuario.is_authenticated or not usuario.is_active:
        return NINGUNO
    if usuario.is_superuser or usuario.rol == Rol.ADMINISTRADOR:
        return Alcance(todo=True)
    if usuario.rol == Rol.COMANDANTE:
        return Alcance(unidad_id=usuario.unidad_id) if usuario.unidad_id else NINGUNO
    if usuario.rol == Rol.EFECTIVO:
        if efectivo is None:
            try:
                efectivo = usuario.efectivo
            except Efectivo.DoesNotExist:
                return NINGUNO
        return Alcance(efectivo_id=efectivo.pk, unidad_propia=efectivo.unidad_id)
    return NINGUNO


# --- Guards: one condition each, raising NoPermitido with the reason -------------------------


def exigir_mando(usuario: Solicitante, mensaje: str = "Solo comandantes o administradores.") -> Alcance:
    alcance = alcance_de(usuario)
    if not alcance.es_mando:
        raise NoPermitido(mensaje)
    return alcance


def exigir_mando_en(usuario: Solicitante, unidad_id: int | None, mensaje: str) -> Alcance:
    alcance = alcance_de(usuario)
    if not alcance.manda_en(unidad_id):
        raise NoPermitido(mensaje)
    return alcance


@dataclass(frozen=True)
class Actor:
    """The caller of a write: their own efectivo record (if any), whether they command, and scope."""

    usuario_id: int
    activo: bool
    es_mando: bool
    efectivo_id: int | None
    alcance: Alcance
    # simplejwt's fingerprint of the password hash (CHECK_REVOKE_TOKEN): a token carrying another
    # one was issued before a password change and is refused.
    huella_clave: str = ""

    def a_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def de_dict(cls, datos: dict[str, Any]) -> Actor:
        return cls(**{**datos, "alcance": Alcance(**datos["alcance"])})


def actor_de(usuario: Usuario) -> Actor:
    efectivo = Efectivo.objects.filter(usuario_id=usuario.pk).only("pk", "unidad_id").first()
    alcance = alcance_de(usuario, efectivo=efectivo)
    return Actor(
        usuario_id=usuario.pk,
        activo=usuario.is_active,
        es_mando=alcance.es_mando,
        efectivo_id=efectivo.pk if efectivo else None,
        alcance=alcance,
        huella_clave=get_md5_hash_password(usuario.password),
    )


def clave_actor(usuario_id: int | str) -> str:
    """Where an Actor is cached in Redis for the lean ingest path (posiciones.asgi); a saved user or
    efectivo record drops it (efectivos.signals)."""
    return f"{settings.REDIS_PREFIX}:actor:v3:{usuario_id}"


def clave_dispositivo(credencial_hash: str) -> str:
    """Where a device (posiciones.dispositivos) is cached in Redis, by its credential's hash;
    revoking it, or any change to its efectivo or their user, drops it (efectivos.signals)."""
    return f"{settings.REDIS_PREFIX}:dispositivo:v1:{credencial_hash}"
