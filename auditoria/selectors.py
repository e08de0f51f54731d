"""Reads of the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from auditoria.models import Registro
from efectivos.models import Usuario


def usuarios_con_rastro(*, usuario_ids: Sequence[int]) -> set[int]:
    """The users among these that the trail names, as actor or as the object of a record."""
    if not usuario_ids:
        return set()
    tipo = ContentType.objects.get_for_model(Usuario)
    filas = Registro.objects.filter(
        Q(actor_id__in=usuario_ids) | Q(content_type=tipo, object_id__in=usuario_ids)
    ).values_list("actor_id", "content_type_id", "object_id")
    pedidos = set(usuario_ids)
    return {a for a, _, _ in filas if a in pedidos} | {o for _, t, o in filas if t == tipo.pk and o in pedidos}


def accesos_a(*, efectivo_id: int, usuario_id: int | None) -> QuerySet[Registro]:
    """Every read of this efectivo's data by someone else, newest first: their track, their
    personal data, and the "who was where" queries and exports that included them (those record
    the ids they returned in `additional_data.efectivos`)."""
    from efectivos.models import Efectivo

    tipo = ContentType.objects.get_for_model(Efectivo)
    qs = Registro.objects.filter(action=Registro.Action.ACCESS).filter(
        Q(content_type=tipo, object_id=efectivo_id) | Q(additional_data__efectivos__contains=[efectivo_id])
    )
    if usuario_id is not None:
        qs = qs.exclude(actor_id=usuario_id)
    ordenados: QuerySet[Registro] = qs.select_related("actor", "unidad").order_by("-timestamp", "-id")
    return ordenados


def acceso_vista(r: Registro) -> dict[str, Any]:
    """One read as the officer sees it: who, when, what, why, through which interface."""
    from auditoria.motivos import Motivo

    datos = r.additional_data or {}
    motivo = datos.get("motivo")
    return {
        "id": r.pk,
        "cuando": r.timestamp,
        "quien": (r.actor.get_full_name() or r.actor.get_username()) if r.actor else "Sistema",
        "rol": r.rol or None,
        "unidad": r.unidad.codigo if r.unidad else None,
        "que": datos.get("lectura", ""),
        "motivo": motivo,
        "motivo_texto": Motivo(motivo).label if motivo in Motivo.values else None,
        "motivo_detalle": datos.get("motivo_detalle"),
        "interfaz": r.interfaz,
        "desde": datos.get("desde"),
        "hasta": datos.get("hasta"),
        "formato": datos.get("formato"),
    }
