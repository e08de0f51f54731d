"""Row-level security: the database's own wall between unidades, behind the application's.

PostgreSQL policies (migration gad_project 0001) on the tables that hold people's data decide
which rows a statement sees, from three settings of the *transaction*: `gad.rol`, `gad.unidad`
(a commander's) and `gad.usuario`. No setting, no rows. The web servers connect as a role that
neither owns the tables nor bypasses the policies (DB_USUARIO_WEB, `gad_app`); migrations and
the system's own processes (Celery, the bot, management commands) connect as the owner.

Settings are `set_config(..., true)`: local to the transaction, so they never outlive it on a
pooled connection or behind PgBouncer in transaction mode. The database engine
(`gad_project.motor`) applies the current context before the first statement of each
transaction, and again when it changes within one (a request authenticates after its first
query); a statement outside any transaction is run inside one of its own with the context.

The context lives in a context variable, so it follows a request into the threads that serve it
(asgiref copies it) and never leaks into another's. Whoever sets one names it:
- a request: its user (`ContextoRls` middleware, resolved again once DRF has authenticated);
- a WebSocket: its user, once authenticated (realtime.consumers);
- `ingesta`: readings, device authentication, a device's SOS (posiciones.services, .asgi); the
  ingest's writer threads connect as a role of their own instead (`gad_ingesta`);
- `sistema`: everything a system process does (Celery, the bot, management commands, tests'
  own set-up), and the few system reads a web server makes (metrics, the key check, an SOS's
  backup).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import SimpleLazyObject, empty


@dataclass(frozen=True)
class Contexto:
    rol: str
    unidad: int | None = None
    usuario: int | None = None

    def valores(self) -> tuple[str, str, str]:
        return (
            self.rol,
            "" if self.unidad is None else str(self.unidad),
            "" if self.usuario is None else str(self.usuario),
        )


SISTEMA = Contexto("sistema")
INGESTA = Contexto("ingesta")
NINGUNO = Contexto("")  # explicitly none: no row passes
ADMINISTRADOR = "administrador"

# The context, or a callable that resolves it (a request's, whose user DRF sets late).
_actual: ContextVar[Contexto | Callable[[], Contexto | None] | None] = ContextVar("gad_rls", default=None)
# A process's context when nothing more specific is set: none in a web server (settings.PROCESO_WEB),
# `sistema` in every other process (Celery, the bot, management commands).
_DEL_PROCESO: Contexto | None = None if settings.PROCESO_WEB else SISTEMA


def actual() -> Contexto | None:
    valor = _actual.get()
    if callable(valor):
        return valor()
    return valor if valor is not None else _DEL_PROCESO


@contextlib.contextmanager
def usar(contexto: Contexto | Callable[[], Contexto | None] | None) -> Iterator[None]:
    """Statements in the block run under this context."""
    marca = _actual.set(contexto)
    try:
        yield
    finally:
        _actual.reset(marca)


def fijar(contexto: Contexto | None) -> None:
    """From here on in this task or thread (a WebSocket consumer, once authenticated)."""
    _actual.set(contexto)


def de_usuario(usuario: Any) -> Contexto | None:
    """The context of a user, read from the user row alone (no query): admins see everything, a
    commander their unidad, an efectivo themself (the policies find their record from the user
    id); anyone else, signed out or inactive, nothing."""
    if usuario is None or not getattr(usuario, "is_authenticated", False) or not usuario.is_active:
        return None
    if usuario.is_superuser or usuario.rol == ADMINISTRADOR:
        return Contexto(ADMINISTRADOR, usuario=usuario.pk)
    return Contexto(usuario.rol, unidad=usuario.unidad_id, usuario=usuario.pk)


def de_solicitud(request: Any) -> Callable[[], Contexto | None]:
    """A request's context, resolved at each use: the user is whoever has been authenticated so
    far (the session's, or DRF's once it has run). A session user not yet read is not read here:
    that read is itself a statement (on a table without policies)."""

    def resolver() -> Contexto | None:
        usuario = request.__dict__.get("user")
        if isinstance(usuario, SimpleLazyObject):
            usuario = usuario._wrapped  # read without triggering the lookup
            if usuario is empty:
                return None
        cache = request.__dict__.get("_rls")
        if cache is not None and cache[0] is usuario:
            return cache[1]
        contexto = de_usuario(usuario)
        request.__dict__["_rls"] = (usuario, contexto)
        return contexto

    return resolver


class ContextoRls:
    """Every request's statements run under its user's context."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with usar(de_solicitud(request)):
            return self.get_response(request)


# --- Applying it: the engine's execute wrapper ---------------------------------------------------

_SQL = "SELECT set_config('gad.rol', %s, true), set_config('gad.unidad', %s, true), set_config('gad.usuario', %s, true)"


def aplicar(conexion: Any, contexto: Contexto) -> None:
    """Sets the context in the current transaction of Django connection `conexion`, unless it is
    already set there."""
    if conexion.rls_aplicado == contexto:
        return
    with conexion.connection.cursor() as cursor:
        cursor.execute(_SQL, contexto.valores())
    conexion.rls_aplicado = contexto


_exentas: dict[tuple, bool] = {}


def _exenta(conexion: Any) -> bool:
    """Whether this connection's role needs no context: a superuser or BYPASSRLS (the owner as the
    system processes use it locally), or the ingest's role (the policies let it through by name).
    Read once per process and database settings; a connection may say otherwise for itself (a
    test that switches role)."""
    if conexion.rls_exenta is not None:
        return conexion.rls_exenta
    d = conexion.settings_dict
    clave = (d["NAME"], d["USER"], d["HOST"], d["PORT"])
    if clave not in _exentas:
        with conexion.connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper OR rolbypassrls OR rolname = %s FROM pg_roles WHERE rolname = current_user",
                [settings.DB_USUARIO_INGESTA],
            )
            _exentas[clave] = bool(cursor.fetchone()[0])
    return _exentas[clave]


def envoltura(execute, sql, params, many, context):
    """Django execute wrapper (installed by gad_project.motor on every connection)."""
    conexion = context["connection"]
    if _exenta(conexion):
        return execute(sql, params, many, context)
    contexto = actual()
    if contexto is None:
        if conexion.rls_aplicado is not None and not conexion.get_autocommit():
            # A transaction that had a context and now runs without one: none, as it should.
            aplicar(conexion, NINGUNO)
        return execute(sql, params, many, context)
    if conexion.get_autocommit():
        from django.db import transaction

        with transaction.atomic(using=conexion.alias):
            aplicar(conexion, contexto)
            return execute(sql, params, many, context)
    aplicar(conexion, contexto)
    return execute(sql, params, many, context)
