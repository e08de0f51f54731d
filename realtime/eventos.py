"""The event catalogue: every event type the domain emits, with its payload (a TypedDict) and its
audience, built in one place. Services build events only through these functions and publish them
with realtime.services.publish_many; a new event type is added here first, with its test in
tests/realtime/test_eventos.py (run the action, assert the exact frame and audience)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypedDict

from realtime import grupos
from realtime.services import Publicacion

# --- payloads ------------------------------------------------------------------------------------


class PosicionDatos(TypedDict):
    efectivo_id: int
    estado: str
    lat: float
    lon: float
    registrada_en: str
    precision_m: float | None
    velocidad_kmh: float | None
    rumbo: float | None
    bateria_pct: float | None  # the phone's battery, when a tracker app sent it with the reading


class PosicionesDatos(TypedDict):
    unidad_id: int
    posiciones: list[PosicionDatos]


class AlertaDatos(TypedDict):
    alerta_id: int
    tipo: str
    severidad: str
    estado: str
    repeticiones: int
    efectivo_id: int
    efectivo: str
    unidad_id: int
    geocerca_id: int
    geocerca: str
    lat: float | None
    lon: float | None
    ocurrida_en: str
    ultima_en: str
    cruce: bool
    silenciada: bool  # its fence was silenced: shown without sound, not notified nor escalated
    lugar: str | None  # where, named from the street extract ("Av. de Mayo y Perú"); None without one


class AlertaReconocidaDatos(TypedDict):
    alerta_id: int
    reconocida_por: str
    reconocida_en: str


class AlertaEstadoDatos(TypedDict):
    alerta_id: int
    estado: str
    anterior: str
    por: str
    en: str
    nota: str


class AlertaEscaladaDatos(TypedDict):
    alerta_id: int
    tipo: str
    severidad: str
    repeticiones: int
    efectivo_id: int
    efectivo: str
    unidad_id: int
    geocerca_id: int
    geocerca: str
    pendiente_desde: str
    minutos: int
    notificar_a: list[int]  # the fence's chosen commanders (users) for Telegram; empty: the usual ones


class GeocercaDatos(TypedDict):
    geocerca_id: int
    version: int
    activa: bool


class GeocercaEliminadaDatos(TypedDict):
    geocerca_id: int


class EfectivoEstadoDatos(TypedDict):
    efectivo_id: int
    unidad_id: int
    anterior: str
    estado: str


class TareaDatos(TypedDict):
    tarea_id: int
    codigo: str
    titulo: str
    tipo: str
    prioridad: int
    estado: str
    unidad_id: int
    lat: float | None
    lon: float | None
    lugar: str | None  # where, named from the street extract; None without one


class TareaEstadoDatos(TareaDatos):
    anterior: str
    por_usuario_id: int | None  # who changed it (None: the system); the bot tells the others


class TareaAsignadaDatos(TareaDatos):
    efectivo_id: int
    efectivo: str
    distancia_m: float | None
    asignacion_id: int


class TareaAsignacionDatos(TareaDatos):
    efectivo_id: int
    # aceptada | rechazada | llegada (the efectivo reached the place) | vencida (not accepted in
    # time) | liberada (taken off by a commander) | reasignada (replaced by another efectivo)
    respuesta: str


class SosDatos(TypedDict):
    sos_id: int
    estado: str  # activo | resuelto
    efectivo_id: int
    efectivo: str
    unidad_id: int
    lat: float | None  # None until the location is known
    lon: float | None
    lugar: str | None  # the place named (mapa.lugares: "Avenida de Mayo y Bolívar"); None without an extract
    tarea_id: int | None  # the emergency the backup was dispatched with
    asignados: list[int]  # backup efectivos sent
    creado_en: str
    resuelto_en: str | None
    resuelto_por: str | None
    nota: str


class SinReporteDatos(TypedDict):
    aviso_id: int
    efectivo_id: int
    efectivo: str
    unidad_id: int
    ultima_posicion_en: str  # the last fix before the silence
    lat: float | None  # where they were last seen
    lon: float | None
    abierto: bool
    # A device of theirs still in contact when raised (no fresh fix, but not dark); None: none.
    contacto_en: str | None


class MensajeDatos(TypedDict):
    mensaje_id: int
    texto: str
    urgente: bool
    autor: str
    creado_en: str


class MensajeEntregaDatos(TypedDict):
    mensaje_id: int
    efectivo_id: int
    efectivo: str
    unidad_id: int
    entregado_en: str | None
    leido_en: str | None
    confirmado_en: str | None
    respuesta: str | None  # the text of a reply, when this event is one


class BienestarDatos(TypedDict):
    control_id: int
    efectivo_id: int
    efectivo: str
    unidad_id: int
    estado: str  # al_dia | pedido | fallido | terminado
    intervalo_min: float  # the cadence in force now (tightened by the risk factors)
    factores: list[str]  # which factors tightened it: restringida | emergencia | noche_solo
    proximo_en: str | None
    pedido_en: str | None
    vence_en: str | None  # the deadline of the check-in asked now
    ultima_respuesta_en: str | None
    fallos_seguidos: int
    sos_id: int | None  # the SOS raised on their behalf after two misses in a row


# --- builders ------------------------------------------------------------------------------------
# Audiences: grupos.mando_de_unidad = admins + the unidad's commanders; grupos.de_efectivo adds
# the efectivo's own sockets.


def posicion_actualizada(*, unidad_id: int, posiciones: list[PosicionDatos]) -> Publicacion:
    """Latest-wins, coalesced: one per unidad and transaction, listing the efectivos that moved."""
    datos: PosicionesDatos = {"unidad_id": unidad_id, "posiciones": posiciones}
    return Publicacion("posicion.actualizada", dict(datos), grupos.mando_de_unidad(unidad_id))


def efectivos_sin_posicion(*, unidad_id: int, efectivos: list[int]) -> Publicacion:
    """Officers gone off duty: their last position is forgotten, the map removes their dot."""
    return Publicacion(
        "efectivo.sin_posicion", {"unidad_id": unidad_id, "efectivos": efectivos}, grupos.mando_de_unidad(unidad_id)
    )


def alerta_geocerca(datos: AlertaDatos) -> Publicacion:
    return Publicacion(
        "alerta.geocerca",
        dict(datos),
        grupos.de_efectivo(efectivo_id=datos["efectivo_id"], unidad_id=datos["unidad_id"]),
    )


def alerta_repetida(datos: AlertaDatos) -> Publicacion:
    """The same transition again while its alert is open: the alert's card is updated (count, last
    time and place), no new card."""
    return Publicacion(
        "alerta.repetida",
        dict(datos),
        grupos.de_efectivo(efectivo_id=datos["efectivo_id"], unidad_id=datos["unidad_id"]),
    )


def alerta_reconocida(*, datos: AlertaReconocidaDatos, efectivo_id: int, unidad_id: int) -> Publicacion:
    """An alert stopped being pending (acknowledged, or attended or resolved straight away)."""
    return Publicacion(
        "alerta.reconocida", dict(datos), grupos.de_efectivo(efectivo_id=efectivo_id, unidad_id=unidad_id)
    )


def alerta_estado(*, datos: AlertaEstadoDatos, efectivo_id: int, unidad_id: int) -> Publicacion:
    """Every step of an alert's lifecycle, with who, when and the note."""
    return Publicacion("alerta.estado", dict(datos), grupos.de_efectivo(efectivo_id=efectivo_id, unidad_id=unidad_id))


def alerta_escalada(datos: AlertaEscaladaDatos) -> Publicacion:
    """Still pending ALERTA_ESCALAR_MIN minutes after it was raised: to every commander of the
    unidad and the admins (not the efectivo)."""
    return Publicacion("alerta.escalada", dict(datos), grupos.mando_de_unidad(datos["unidad_id"]))


def geocerca_actualizada(*, datos: GeocercaDatos, unidades: Sequence[int]) -> Publicacion:
    """To the admins and the commanders of the fence's unidades (all commanders if it has none)."""
    return Publicacion("geocerca.actualizada", dict(datos), _de_geocerca(unidades))


class GeocercaSilenciadaDatos(TypedDict):
    geocerca_id: int
    geocerca: str
    hasta: str | None  # None: the silence was lifted
    por: str
    motivo: str


def geocerca_silenciada(*, datos: GeocercaSilenciadaDatos, unidades: Sequence[int]) -> Publicacion:
    """A commander silenced a fence for some minutes, or lifted it: every other commander who
    sees the fence is told who, until when and why."""
    return Publicacion("geocerca.silenciada", dict(datos), _de_geocerca(unidades))


def geocerca_eliminada(*, geocerca_id: int, unidades: Sequence[int]) -> Publicacion:
    datos: GeocercaEliminadaDatos = {"geocerca_id": geocerca_id}
    return Publicacion("geocerca.eliminada", dict(datos), _de_geocerca(unidades))


def efectivo_estado(*, efectivo_id: int, unidad_id: int, anterior: str, estado: str) -> Publicacion:
    datos: EfectivoEstadoDatos = {
        "efectivo_id": efectivo_id,
        "unidad_id": unidad_id,
        "anterior": anterior,
        "estado": estado,
    }
    return Publicacion("efectivo.estado", dict(datos), grupos.de_efectivo(efectivo_id=efectivo_id, unidad_id=unidad_id))


def tarea_creada(datos: TareaDatos) -> Publicacion:
    return Publicacion("tarea.creada", dict(datos), grupos.mando_de_unidad(datos["unidad_id"]))


def tarea_actualizada(datos: TareaDatos, *, asignados: Iterable[int]) -> Publicacion:
    return Publicacion("tarea.actualizada", dict(datos), _de_tarea(datos["unidad_id"], asignados))


def tarea_estado(
    datos: TareaDatos, *, anterior: str, por_usuario_id: int | None, asignados: Iterable[int]
) -> Publicacion:
    completos: TareaEstadoDatos = {**datos, "anterior": anterior, "por_usuario_id": por_usuario_id}
    return Publicacion("tarea.estado", dict(completos), _de_tarea(datos["unidad_id"], asignados))


def tarea_asignada(
    datos: TareaDatos, *, efectivo_id: int, efectivo: str, distancia_m: float | None, asignacion_id: int
) -> Publicacion:
    completos: TareaAsignadaDatos = {
        **datos,
        "efectivo_id": efectivo_id,
        "efectivo": efectivo,
        "distancia_m": distancia_m,
        "asignacion_id": asignacion_id,
    }
    return Publicacion(
        "tarea.asignada", dict(completos), grupos.de_efectivo(efectivo_id=efectivo_id, unidad_id=datos["unidad_id"])
    )


def tarea_asignacion(datos: TareaDatos, *, efectivo_id: int, respuesta: str) -> Publicacion:
    completos: TareaAsignacionDatos = {**datos, "efectivo_id": efectivo_id, "respuesta": respuesta}
    return Publicacion(
        "tarea.asignacion",
        dict(completos),
        grupos.de_efectivo(efectivo_id=efectivo_id, unidad_id=datos["unidad_id"]),
    )


class TareaSinCubrirDatos(TareaDatos):
    faltan: int  # efectivos still missing
    radio_m: float  # how far dispatch looked


def tarea_sin_cubrir(datos: TareaDatos, *, faltan: int, radio_m: float) -> Publicacion:
    """Re-dispatch found nobody available in range: to the unidad's commanders and the admins."""
    completos: TareaSinCubrirDatos = {**datos, "faltan": faltan, "radio_m": radio_m}
    return Publicacion("tarea.sin_cubrir", dict(completos), grupos.mando_de_unidad(datos["unidad_id"]))


def sos(datos: SosDatos) -> Publicacion:
    """`sos.activado` when raised (again when its location becomes known), `sos.resuelto` when
    closed: to the efectivo, their unidad's commanders and the admins."""
    tipo = "sos.activado" if datos["estado"] == "activo" else "sos.resuelto"
    return Publicacion(
        tipo, dict(datos), grupos.de_efectivo(efectivo_id=datos["efectivo_id"], unidad_id=datos["unidad_id"])
    )


def sin_reporte(datos: SinReporteDatos) -> Publicacion:
    """`sin_reporte.activado` when an efectivo in service goes silent, `sin_reporte.cerrado` when
    a fix arrives: to the efectivo, their unidad's commanders and the admins."""
    tipo = "sin_reporte.activado" if datos["abierto"] else "sin_reporte.cerrado"
    return Publicacion(
        tipo, dict(datos), grupos.de_efectivo(efectivo_id=datos["efectivo_id"], unidad_id=datos["unidad_id"])
    )


def mensaje_nuevo(datos: MensajeDatos, *, efectivos: Iterable[int]) -> Publicacion:
    """A message from command: to each recipient's own sockets only."""
    return Publicacion("mensaje.nuevo", dict(datos), [grupos.efectivo(e) for e in efectivos])


def mensaje_entrega(datos: MensajeEntregaDatos) -> Publicacion:
    """A recipient's delivery, read, acknowledgement or reply: to their unidad's commanders and
    the admins (the sender among them)."""
    return Publicacion("mensaje.entrega", dict(datos), grupos.mando_de_unidad(datos["unidad_id"]))


def bienestar(datos: BienestarDatos, *, pedido: bool = False) -> Publicacion:
    """`bienestar.pedido` when a check-in is asked (the efectivo answers it), `bienestar.estado`
    for every other change of a cadence (started, answered, missed, ended): to the efectivo, their
    unidad's commanders and the admins."""
    return Publicacion(
        "bienestar.pedido" if pedido else "bienestar.estado",
        dict(datos),
        grupos.de_efectivo(efectivo_id=datos["efectivo_id"], unidad_id=datos["unidad_id"]),
    )


TIPOS = (
    "posicion.actualizada",
    "alerta.geocerca",
    "alerta.repetida",
    "alerta.reconocida",
    "alerta.estado",
    "alerta.escalada",
    "geocerca.actualizada",
    "geocerca.eliminada",
    "geocerca.silenciada",
    "efectivo.estado",
    "efectivo.sin_posicion",
    "tarea.creada",
    "tarea.actualizada",
    "tarea.estado",
    "tarea.asignada",
    "tarea.asignacion",
    "tarea.sin_cubrir",
    "sos.activado",
    "sos.resuelto",
    "sin_reporte.activado",
    "sin_reporte.cerrado",
    "mensaje.nuevo",
    "mensaje.entrega",
    "bienestar.pedido",
    "bienestar.estado",
)


def _de_geocerca(unidades: Sequence[int]) -> list[str]:
    if unidades:
        return [grupos.ADMINS, *(grupos.unidad(u) for u in unidades)]
    return [grupos.ADMINS, grupos.TODAS_LAS_UNIDADES]


def _de_tarea(unidad_id: int, asignados: Iterable[int]) -> list[str]:
    return [*grupos.mando_de_unidad(unidad_id), *(grupos.efectivo(e) for e in asignados)]
