"""What is audited and in which context.

Capture is django-auditlog's: model signals record every create, update and delete of the
registered models with the changed fields (before → after), through any interface that goes
through the ORM (API, map, admin, bot, management commands, Celery). The context of each record —
actor, role, unidad, interface, address or Telegram account — is set by `contexto` (the
middleware for web requests, the bot's wrapper for Telegram). Sensitive reads are recorded with
`acceso`.

Positions are not audited row by row: they are themselves an append-only record with their
source, and the ingest writes them with SQL at thousands a second. The fields the ingest keeps
updating on an efectivo (its last position) are excluded for the same reason."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from auditlog.context import set_extra_data
from auditlog.registry import auditlog
from django.utils.functional import SimpleLazyObject

# Fields never copied into the trail: secrets, personal data kept encrypted (gad_project.cifrado:
# the trail would hold it in clear), and what the ingest rewrites on every reading.
EXCLUIDOS = {
    "efectivos.Usuario": ["password", "last_login", "telegram_id"],
    "mensajes.Mensaje": ["texto"],
    "mensajes.Respuesta": ["texto"],
    "tareas.Asignacion": ["motivo"],
    "seguridad.Sos": ["nota"],
    # What the device reports is its telemetry, not a change anyone made.
    "efectivos.Dispositivo": [
        "credencial_hash",
        "ultimo_contacto_en",
        "ultima_lectura_en",
        "bateria_pct",
        "cargando",
        "app",
        "ultimo_rechazo",
        "ultimo_rechazo_en",
        "ubicacion_pedida_enviada_en",
    ],
    "efectivos.Efectivo": [
        "dni",
        "estado_desde",
        "ultima_posicion",
        "ultima_posicion_en",
        "ultima_precision_m",
        "descartada_lon",
        "descartada_lat",
        "descartada_en",
        "descartada_precision_m",
        "descartada_desde",
        "descartadas_n",
        "actualizado_en",
    ],
    "telegram_bot.CodigoVinculacion": ["codigo"],
    # The sweep's clock; what the audit keeps is the cadence, its answers and misses.
    "seguridad.ControlBienestar": ["proximo_en", "pedido_en", "vence_en"],
}
MODELOS = [
    "efectivos.Usuario",
    "efectivos.Unidad",
    "efectivos.Efectivo",
    "efectivos.Dispositivo",
    "efectivos.Turno",
    "geocercas.Geocerca",
    "geocercas.Alerta",
    "tareas.Tarea",
    "tareas.Asignacion",
    "mensajes.Mensaje",
    "mensajes.Entrega",
    "mensajes.Respuesta",
    "seguridad.ControlBienestar",
    "seguridad.Sos",
    "telegram_bot.CodigoVinculacion",
]
M2M = {"geocercas.Geocerca": {"unidades"}}


def registrar_modelos() -> None:
    from django.apps import apps

    for etiqueta in MODELOS:
        modelo = apps.get_model(etiqueta)
        if not auditlog.contains(modelo):
            auditlog.register(modelo, exclude_fields=EXCLUIDOS.get(etiqueta, []), m2m_fields=M2M.get(etiqueta, set()))


_vigente: ContextVar[dict[str, Any] | None] = ContextVar("auditoria_contexto", default=None)


def _perezoso(fn: Callable[[], Any]) -> SimpleLazyObject:
    return SimpleLazyObject(fn)


@contextlib.contextmanager
def contexto(
    *,
    actor: Callable[[], Any],
    interfaz: str,
    direccion: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Everything recorded inside the block carries this context. `actor` is called when the first
    record is written (DRF authenticates a bearer token inside the view, after the middleware)."""
    from efectivos.selectors import rol_de

    usuario = _perezoso(actor)

    def rol() -> str:
        return (rol_de(usuario) or "") if _autenticado(usuario) else ""  # type: ignore[arg-type]  # a lazy Usuario

    def unidad_id() -> int | None:
        return getattr(usuario, "unidad_id", None) if _autenticado(usuario) else None

    datos: dict[str, Any] = {
        "actor": usuario,
        "remote_addr": direccion,
        "interfaz": interfaz,
        "rol": rol,
        "unidad_id": unidad_id,
    }
    if extra:
        datos["additional_data"] = extra
    marca = _vigente.set(datos)
    try:
        with set_extra_data(context_data=datos):
            yield
    finally:
        # auditlog never resets its context variable: what the bulk entries read is ours, reset
        # here, so a thread's next request cannot inherit this one's actor.
        _vigente.reset(marca)


def _autenticado(usuario: Any) -> bool:
    return bool(usuario is not None and getattr(usuario, "is_authenticated", False))


def acceso(*, usuario: Any, objeto: Any, que: str, interfaz: str, direccion: str | None, **parametros: Any) -> None:
    """A sensitive read (a track replayed, an export, an efectivo's personal data): who read what,
    with which parameters."""
    from auditoria.models import Registro
    from efectivos.selectors import rol_de

    Registro.objects.log_create(
        objeto,
        force_log=True,
        action=Registro.Action.ACCESS,
        changes=None,
        actor=usuario if _autenticado(usuario) else None,
        remote_addr=direccion,
        interfaz=interfaz,
        rol=rol_de(usuario) or "",
        unidad_id=getattr(usuario, "unidad_id", None),
        additional_data={"lectura": que, **{k: v for k, v in parametros.items() if v is not None}},
    )


Cambios = dict[str, tuple[Any, Any]]


def en_bloque(objetos: Iterable[Any], cambios: Cambios | Callable[[Any], Cambios], *, alta: bool = False) -> None:
    """Writes made in bulk — `QuerySet.update()` and `bulk_create()` send no model signals — are
    recorded here, one entry per object. `cambios` is field → (before, after), or a function of
    the object giving it; `alta` records them as creations."""
    entradas_registrar([(o, cambios(o) if callable(cambios) else cambios, alta) for o in objetos])


def entradas_registrar(entradas: list[tuple[Any, Cambios, bool]]) -> None:
    """(object, changes, is a creation) entries, in the current context (who, from where), with
    one INSERT whatever their number or models."""
    from auditlog.cid import get_cid
    from django.contrib.contenttypes.models import ContentType

    from auditoria.models import Registro

    if not entradas:
        return
    ctx = _vigente.get() or {}
    valor = {
        k: (v() if callable(v) else v)
        for k, v in ctx.items()
        if k in ("remote_addr", "interfaz", "rol", "unidad_id", "additional_data")
    }
    actor = ctx.get("actor")
    actor_id = actor.pk if actor is not None and _autenticado(actor) else None
    cid = get_cid()
    Registro.objects.bulk_create(
        Registro(
            content_type=ContentType.objects.get_for_model(o),
            object_pk=str(o.pk),
            object_id=o.pk if isinstance(o.pk, int) else None,
            object_repr=str(o)[:2000],
            action=Registro.Action.CREATE if alta else Registro.Action.UPDATE,
            changes={campo: [_texto(antes), _texto(despues)] for campo, (antes, despues) in cambios.items()},
            actor_id=actor_id,
            cid=cid,
            **valor,
        )
        for o, cambios, alta in entradas
    )


def _texto(valor: Any) -> str:
    return "None" if valor is None else str(getattr(valor, "pk", valor))


def lecturas_por_terceros(entradas: list[tuple[int, dict[int, tuple[str, list[int]]]]]) -> None:
    """(poster's user id, {efectivo id: (name, position ids)}): readings posted for efectivos by
    someone else, one CREATE entry per poster on the poster's user (one INSERT for all), listing
    the efectivos and their positions (each list capped at 100). The actor is the poster,
    whatever the ambient context (the lean ingest path has none)."""
    from auditlog.cid import get_cid
    from django.contrib.contenttypes.models import ContentType

    from auditoria.models import Registro
    from efectivos.models import Usuario

    tipo = ContentType.objects.get_for_model(Usuario)
    ctx = _vigente.get() or {}
    registros = []
    for actor_id, por_efectivo in entradas:
        total = sum(len(ids) for _, ids in por_efectivo.values())
        registros.append(
            Registro(
                content_type=tipo,
                object_pk=str(actor_id),
                object_id=actor_id,
                object_repr=f"{total} posiciones enviadas en nombre de otros efectivos",
                action=Registro.Action.CREATE,
                changes={"posiciones_por_terceros": ["None", str(total)]},
                actor_id=actor_id,
                cid=get_cid(),
                remote_addr=ctx.get("remote_addr"),
                interfaz=ctx.get("interfaz") or "api",
                additional_data={
                    "lectura": "posiciones enviadas en nombre de efectivos",
                    "efectivos": {
                        str(eid): {"nombre": nombre, "posiciones": ids[:100]}
                        for eid, (nombre, ids) in por_efectivo.items()
                    },
                },
            )
        )
    Registro.objects.bulk_create(registros)
