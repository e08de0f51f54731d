"""An alert's lifecycle (acknowledge, attend, resolve, with notes) and its escalation when it stays
pending."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from auditoria.registro import en_bloque
from efectivos.alcance import exigir_mando
from efectivos.models import Usuario
from gad_project.exceptions import Conflicto, NoEncontrado
from gad_project.tiempo import iso
from geocercas.models import Alerta, AlertaNota, EstadoAlerta
from geocercas.selectors import alertas_visibles
from realtime import eventos
from realtime.services import Publicacion, publish_many

# What each action on an alert leads to, and from which states.
ACCIONES: dict[str, tuple[str, frozenset[str]]] = {
    "reconocer": (EstadoAlerta.RECONOCIDA, frozenset({EstadoAlerta.PENDIENTE})),
    "atender": (EstadoAlerta.EN_ATENCION, frozenset({EstadoAlerta.PENDIENTE, EstadoAlerta.RECONOCIDA})),
    "resolver": (
        EstadoAlerta.RESUELTA,
        frozenset({EstadoAlerta.PENDIENTE, EstadoAlerta.RECONOCIDA, EstadoAlerta.EN_ATENCION}),
    ),
}


def alerta_cambiar_estado(*, alerta_id: int, usuario: Usuario, accion: str, nota: str = "") -> Alerta:
    """Move an alert along pendiente → reconocida → en atención → resuelta (a later step may skip
    earlier ones: attending or resolving a pending alert acknowledges it too). Records who, when
    and the note; tells everyone who sees it. A resolved alert is closed: the next transition of
    the same kind raises a new one."""
    exigir_mando(usuario, "Solo comandantes o administradores operan alertas.")
    destino, desde = ACCIONES[accion]
    with transaction.atomic():
        alerta = (
            alertas_visibles(usuario=usuario)
            .select_for_update(of=("self",))
            .select_related("efectivo")
            .filter(pk=alerta_id)
            .first()
        )
        if alerta is None:
            raise NoEncontrado("Alerta inexistente o fuera de su alcance.")
        if alerta.estado not in desde:
            if accion == "reconocer":
                raise Conflicto(
                    "La alerta ya fue reconocida.",
                    detalle={
                        "estado": alerta.estado,
                        "reconocida_por": alerta.reconocida_por_id,
                        "reconocida_en": iso(alerta.reconocida_en) if alerta.reconocida_en else None,
                    },
                    codigo="alerta_ya_reconocida",
                )
            raise Conflicto(
                f"La alerta está {EstadoAlerta(alerta.estado).label.lower()}: no se puede {accion}.",
                detalle={"estado": alerta.estado},
                codigo="transicion_invalida",
            )
        anterior = alerta.estado
        ahora = timezone.now()
        campos = ["estado"]
        alerta.estado = destino
        if alerta.reconocida_en is None:
            alerta.reconocida_por, alerta.reconocida_en = usuario, ahora
            campos += ["reconocida_por", "reconocida_en"]
        if destino == EstadoAlerta.EN_ATENCION:
            alerta.atendida_por, alerta.atendida_en = usuario, ahora
            campos += ["atendida_por", "atendida_en"]
        elif destino == EstadoAlerta.RESUELTA:
            alerta.resuelta_por, alerta.resuelta_en = usuario, ahora
            campos += ["resuelta_por", "resuelta_en"]
        alerta.save(update_fields=campos)
        AlertaNota.objects.create(alerta=alerta, estado=destino, usuario=usuario, nota=nota, en=ahora)
        publicaciones = [_estado_publicacion(alerta, usuario, anterior=anterior, nota=nota, en=ahora)]
        if anterior == EstadoAlerta.PENDIENTE:
            publicaciones.insert(0, _reconocida(alerta, usuario))
        publish_many(publicaciones)
    return alerta


def alerta_reconocer(*, alerta_id: int, usuario: Usuario, nota: str = "") -> Alerta:
    """Record who acknowledged an alert and when; tell everyone who sees it."""
    return alerta_cambiar_estado(alerta_id=alerta_id, usuario=usuario, accion="reconocer", nota=nota)


def alertas_reconocer(*, usuario: Usuario, hasta_id: int, ids: Sequence[int] | None = None) -> list[int]:
    """Acknowledge at once every pending alert the commander sees up to `hasta_id` (the newest one
    on their screen: one that arrives meanwhile is not acknowledged unseen), or only `ids` among
    them. One statement; one `alerta.reconocida` per alert. Returns the ids acknowledged."""
    exigir_mando(usuario, "Solo comandantes o administradores reconocen alertas.")
    with transaction.atomic():
        qs = alertas_visibles(usuario=usuario).filter(estado=EstadoAlerta.PENDIENTE, pk__lte=hasta_id)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        pendientes = list(qs.select_for_update(of=("self",), skip_locked=True).select_related("efectivo"))
        ahora = timezone.now()
        Alerta.objects.filter(pk__in=[a.pk for a in pendientes]).update(
            estado=EstadoAlerta.RECONOCIDA, reconocida_por=usuario, reconocida_en=ahora
        )
        AlertaNota.objects.bulk_create(
            AlertaNota(alerta=a, estado=EstadoAlerta.RECONOCIDA, usuario=usuario, nota="", en=ahora) for a in pendientes
        )
        en_bloque(
            pendientes,
            {
                "estado": (EstadoAlerta.PENDIENTE, EstadoAlerta.RECONOCIDA),
                "reconocida_por": (None, usuario),
                "reconocida_en": (None, ahora),
            },
        )
        for alerta in pendientes:
            alerta.estado, alerta.reconocida_por, alerta.reconocida_en = EstadoAlerta.RECONOCIDA, usuario, ahora
        if pendientes:
            publish_many([_reconocida(a, usuario) for a in pendientes])
    return sorted(a.pk for a in pendientes)


def _nombre(usuario: Usuario) -> str:
    return usuario.get_full_name() or usuario.get_username()


def _reconocida(alerta: Alerta, usuario: Usuario) -> Publicacion:
    assert alerta.reconocida_en is not None
    return eventos.alerta_reconocida(
        datos={
            "alerta_id": alerta.pk,
            "reconocida_por": _nombre(usuario),
            "reconocida_en": iso(alerta.reconocida_en),
        },
        efectivo_id=alerta.efectivo_id,
        unidad_id=alerta.efectivo.unidad_id,
    )


def _estado_publicacion(alerta: Alerta, usuario: Usuario, *, anterior: str, nota: str, en: datetime) -> Publicacion:
    return eventos.alerta_estado(
        datos={
            "alerta_id": alerta.pk,
            "estado": alerta.estado,
            "anterior": anterior,
            "por": _nombre(usuario),
            "en": iso(en),
            "nota": nota,
        },
        efectivo_id=alerta.efectivo_id,
        unidad_id=alerta.efectivo.unidad_id,
    )


_SQL_ESCALAR = """
UPDATE geocercas_alerta a SET escalada_en = %(ahora)s
FROM efectivos_efectivo e, geocercas_geocerca g
WHERE a.estado = 'pendiente' AND a.escalada_en IS NULL AND a.creada_en <= %(limite)s
  AND e.id = a.efectivo_id AND g.id = a.geocerca_id
  -- A fence may not escalate; a silenced one, or one raised while it was, does not.
  AND g.escalar AND NOT a.silenciada AND NOT coalesce(g.silenciada_hasta > %(ahora)s, false)
RETURNING a.id, a.tipo, a.severidad, a.repeticiones, a.efectivo_id, e.apellido || ', ' || e.nombre, e.unidad_id,
          a.geocerca_id, g.nombre, a.creada_en,
          ARRAY(SELECT n.usuario_id FROM geocercas_geocerca_notificar_a n WHERE n.geocerca_id = g.id ORDER BY 1)
"""


def alertas_escalar(*, ahora: datetime | None = None) -> list[int]:
    """Escalate every alert still pending ALERTA_ESCALAR_MIN minutes after it was raised, once:
    `alerta.escalada` to the unidad's commanders and the admins (the map marks it; the bot tells
    the linked ones). One statement (periodic task). Returns the ids escalated."""
    ahora = ahora or timezone.now()
    limite = ahora - timedelta(minutes=settings.ALERTA_ESCALAR_MIN)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SQL_ESCALAR, {"ahora": ahora, "limite": limite})
        filas = sorted(cursor.fetchall())
        publish_many(
            [
                eventos.alerta_escalada(
                    {
                        "alerta_id": pk,
                        "tipo": tipo,
                        "severidad": severidad,
                        "repeticiones": repeticiones,
                        "efectivo_id": eid,
                        "efectivo": nombre,
                        "unidad_id": unidad_id,
                        "geocerca_id": gid,
                        "geocerca": geocerca,
                        "pendiente_desde": iso(creada_en),
                        "minutos": int((ahora - creada_en).total_seconds() // 60),
                        "notificar_a": list(notificar_a),
                    }
                )
                for pk, tipo, severidad, repeticiones, eid, nombre, unidad_id, gid, geocerca, creada_en, notificar_a in filas
            ]
        )
    return [fila[0] for fila in filas]
