"""Reads for geofences and alerts, scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from efectivos.alcance import Solicitante, alcance_de
from efectivos.selectors import efectivos_visibles
from geocercas.models import Alerta, Geocerca


def geocercas_visibles(*, usuario: Solicitante) -> QuerySet[Geocerca]:
    """Admins: all. Others: the fences that apply to their unidad (unscoped ones apply to all)."""
    alcance = alcance_de(usuario)
    qs = Geocerca.objects.all()
    if alcance.todo:
        return qs
    if not alcance.es_mando and not alcance.es_efectivo:
        return qs.none()
    return qs.filter(Q(unidades__isnull=True) | alcance.filtro_unidad("unidades")).distinct()


def geocerca_editable(*, usuario: Solicitante, geocerca: Geocerca) -> bool:
    """Admins edit any fence; a commander only those scoped exactly to their own unidad."""
    alcance = alcance_de(usuario)
    if alcance.todo:
        return True
    return alcance.es_mando and list(geocerca.unidades.values_list("pk", flat=True)) == [alcance.unidad_id]


def alertas_visibles(*, usuario: Solicitante) -> QuerySet[Alerta]:
    return Alerta.objects.filter(efectivo__in=efectivos_visibles(usuario=usuario))
