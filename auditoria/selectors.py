"""Reads of the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

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
