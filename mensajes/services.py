"""Writes for messages from command: sending (resolving who receives it at sending time, within
the sender's scope) and each recipient's delivery, read, acknowledgement and reply. Every change
is published on the event log in the same transaction (at-least-once to the field app) and
recorded by the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.contrib.gis.measure import D
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from efectivos.alcance import alcance_de, exigir_mando
from efectivos.models import Efectivo, Usuario
from efectivos.selectors import efectivos_visibles
from gad_project.exceptions import EntradaInvalida, NoEncontrado, NoPermitido
from gad_project.geo import grados_que_cubren
from gad_project.tiempo import iso
from mensajes.models import TEXTO_MAX, Destino, Entrega, Mensaje, Respuesta
from realtime import eventos
from realtime.services import publish_many

RADIO_MAX_M = 50_000


@dataclass(frozen=True)
class Destinatarios:
    """Who a message is for: exactly one of the ways."""

    efectivos: Sequence[int] = ()
    unidad_id: int | None = None
    area: MultiPolygon | None = None
    centro: tuple[float, float] | None = None  # (lat, lon)
    radio_m: float | None = None
    todos: bool = False


def _texto(texto: str) -> str:
    texto = (texto or "").strip()
    if not texto:
        raise EntradaInvalida("El mensaje está vacío.", detalle={"texto": "Escriba el mensaje."})
    if len(texto) > TEXTO_MAX:
        raise EntradaInvalida(
            f"El mensaje supera los {TEXTO_MAX} caracteres.", detalle={"texto": f"Máximo {TEXTO_MAX} caracteres."}
        )
    return texto


def _resolver(usuario: Usuario, para: Destinatarios) -> tuple[str, QuerySet[Efectivo], MultiPolygon | None]:
    alcance = exigir_mando(usuario, "Solo comandantes y administradores escriben a los efectivos.")
    visibles = efectivos_visibles(usuario=usuario).filter(usuario__isnull=False, usuario__is_active=True)
    if para.efectivos:
        ids = set(para.efectivos)
        encontrados = set(Efectivo.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if encontrados != ids:
            raise NoEncontrado("Efectivo inexistente.", detalle={"efectivos": sorted(ids - encontrados)})
        fuera = ids - set(efectivos_visibles(usuario=usuario).filter(pk__in=ids).values_list("pk", flat=True))
        if fuera:
            raise NoPermitido("Solo puede escribir a los efectivos de su unidad.", detalle={"efectivos": sorted(fuera)})
        return Destino.EFECTIVOS, visibles.filter(pk__in=ids), None
    if para.unidad_id is not None:
        if not alcance.manda_en(para.unidad_id):
            raise NoPermitido("Solo puede escribir a su propia unidad.", detalle={"unidad": para.unidad_id})
        return Destino.UNIDAD, visibles.filter(unidad_id=para.unidad_id), None
    if para.area is not None:
        return Destino.AREA, visibles.filter(ultima_posicion__within=para.area), para.area
    if para.centro is not None and para.radio_m is not None:
        lat, lon = para.centro
        centro = Point(lon, lat, srid=4326)
        circulo = _circulo(centro, para.radio_m)
        cerca = visibles.filter(
            # The GiST index narrows by a box in degrees that holds the circle; metres decide.
            ultima_posicion__dwithin=(centro, grados_que_cubren(para.radio_m, lat)),
            ultima_posicion__distance_lte=(centro, D(m=para.radio_m)),
        )
        return Destino.RADIO, cerca, MultiPolygon(circulo)
    if para.todos:
        return Destino.TODOS, visibles, None
    raise EntradaInvalida("Indique a quién va el mensaje.", codigo="sin_destinatarios")


def _circulo(centro: Point, radio_m: float) -> Polygon:
    """The circle of a radius message, kept to show where it went (buffered on the geography:
    metres on the ground)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, 16)::geometry)",
            [centro.x, centro.y, radio_m],
        )
        wkb = cursor.fetchone()[0]
    circulo = GEOSGeometry(memoryview(bytes(wkb)), srid=4326)
    assert isinstance(circulo, Polygon)
    return circulo


def mensaje_enviar(*, usuario: Usuario, texto: str, para: Destinatarios, urgente: bool = False) -> Mensaje:
    """Write to efectivos: resolved now (an area or radius means those whose last fix is inside at
    sending time), within the sender's scope (a commander: their unidad; an admin: anyone). Each
    recipient gets `mensaje.nuevo` on their own sockets; the bot delivers it to linked accounts."""
    texto = _texto(texto)
    destino, efectivos, area = _resolver(usuario, para)
    with transaction.atomic():
        ids = list(efectivos.values_list("pk", flat=True))
        if not ids:
            raise EntradaInvalida(
                "Nadie de su alcance recibe este mensaje (ningún efectivo en ese destino).",
                codigo="sin_destinatarios",
            )
        mensaje = Mensaje.objects.create(
            autor=usuario, texto=texto, urgente=urgente, destino=destino, unidad_id=para.unidad_id, area=area
        )
        Entrega.objects.bulk_create([Entrega(mensaje=mensaje, efectivo_id=e) for e in ids])
        publish_many([eventos.mensaje_nuevo(mensaje_datos(mensaje), efectivos=ids)])
    return mensaje


def mensaje_datos(mensaje: Mensaje) -> eventos.MensajeDatos:
    autor = mensaje.autor
    return {
        "mensaje_id": mensaje.pk,
        "texto": mensaje.texto,
        "urgente": mensaje.urgente,
        "autor": autor.get_full_name() or autor.get_username(),
        "creado_en": iso(mensaje.creado_en),
    }


def entrega_datos(entrega: Entrega, respuesta: str | None = None) -> eventos.MensajeEntregaDatos:
    e = entrega.efectivo
    return {
        "mensaje_id": entrega.mensaje_id,
        "efectivo_id": e.pk,
        "efectivo": f"{e.apellido}, {e.nombre}",
        "unidad_id": e.unidad_id,
        "entregado_en": iso(entrega.entregado_en) if entrega.entregado_en else None,
        "leido_en": iso(entrega.leido_en) if entrega.leido_en else None,
        "confirmado_en": iso(entrega.confirmado_en) if entrega.confirmado_en else None,
        "respuesta": respuesta,
    }


def _propia(usuario: Usuario, mensaje_id: int) -> Entrega:
    alcance = alcance_de(usuario)
    if alcance.efectivo_id is None:
        raise NoPermitido("Solo el efectivo destinatario responde sus mensajes.", codigo="sin_legajo")
    entrega = (
        Entrega.objects.select_for_update(of=("self",))
        .select_related("efectivo")
        .filter(mensaje_id=mensaje_id, efectivo_id=alcance.efectivo_id)
        .first()
    )
    if entrega is None:
        raise NoEncontrado("Mensaje inexistente o no dirigido a usted.")
    return entrega


# What each step records; a later step implies the earlier ones (read implies delivered).
PASOS = {
    "recibido": ("entregado_en",),
    "leido": ("entregado_en", "leido_en"),
    "confirmado": ("entregado_en", "leido_en", "confirmado_en"),
}


def entrega_marcar(*, usuario: Usuario, mensaje_id: int, paso: str, via: str = "campo") -> Entrega:
    """The recipient's side: `recibido` (it reached their device), `leido` (opened), `confirmado`
    (the explicit acknowledgement an urgent message asks for). Idempotent: a repeated step keeps
    its first time and publishes nothing."""
    if paso not in PASOS:
        raise EntradaInvalida("Paso desconocido.", detalle={"paso": paso})
    ahora = timezone.now()
    with transaction.atomic():
        entrega = _propia(usuario, mensaje_id)
        cambios = [c for c in PASOS[paso] if getattr(entrega, c) is None]
        for campo in cambios:
            setattr(entrega, campo, ahora)
        if "entregado_en" in cambios:
            entrega.entregado_por = via
            cambios.append("entregado_por")
        if cambios:
            entrega.save(update_fields=cambios)
            publish_many([eventos.mensaje_entrega(entrega_datos(entrega))])
    return entrega


def entregas_recibidas(*, efectivo_id: int, ids: Sequence[int], via: str) -> int:
    """Several deliveries at once (a channel that delivered on the officer's behalf: the bot)."""
    ahora = timezone.now()
    with transaction.atomic():
        entregas = list(
            Entrega.objects.select_for_update(of=("self",))
            .select_related("efectivo")
            .filter(efectivo_id=efectivo_id, mensaje_id__in=ids, entregado_en__isnull=True)
        )
        for entrega in entregas:
            entrega.entregado_en, entrega.entregado_por = ahora, via
            entrega.save(update_fields=["entregado_en", "entregado_por"])
        publish_many([eventos.mensaje_entrega(entrega_datos(e)) for e in entregas])
    return len(entregas)


def mensaje_responder(*, usuario: Usuario, mensaje_id: int, texto: str) -> Respuesta:
    """An officer's text reply: reaches the sender's map live (it also marks the message read)."""
    texto = _texto(texto)
    ahora = timezone.now()
    with transaction.atomic():
        entrega = _propia(usuario, mensaje_id)
        cambios = [c for c in PASOS["leido"] if getattr(entrega, c) is None]
        for campo in cambios:
            setattr(entrega, campo, ahora)
        if cambios:
            entrega.save(update_fields=cambios)
        respuesta = Respuesta.objects.create(mensaje_id=mensaje_id, efectivo=entrega.efectivo, texto=texto)
        publish_many([eventos.mensaje_entrega(entrega_datos(entrega, respuesta=texto))])
    return respuesta


def reenvio_registrar(*, entrega_ids: Sequence[int], en: datetime) -> None:
    """An urgent message went out again (through the bot)."""
    Entrega.objects.filter(pk__in=entrega_ids).update(reenvios=F("reenvios") + 1, ultimo_reenvio_en=en)
