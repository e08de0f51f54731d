"""Reads of the event log: what a socket replays when it (re)connects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max

from realtime.models import Evento, Poda

# Event ids come from a sequence when the row is written, but transactions commit in their own
# order: an event with a smaller id can become visible after a client has already seen a larger
# one. Replay therefore also re-sends the events written shortly before the client's cursor;
# clients drop the ones they have by id.
VENTANA_REORDEN = timedelta(seconds=10)


@dataclass(frozen=True)
class Reproduccion:
    eventos: list[Evento]
    resync: bool  # the gap is too old or too large: reload the snapshot instead


def eventos_reproducir(*, grupos: list[str], desde: int, limite: int) -> Reproduccion:
    """Visible events after `desde` (plus the reorder window before it), in id order."""
    podado_hasta = Poda.objects.aggregate(m=Max("hasta_id"))["m"]
    if podado_hasta is not None and desde < podado_hasta:
        return Reproduccion([], resync=True)  # pruned: what the client missed is gone
    cursor_en = Evento.objects.filter(pk=desde).values_list("creado_en", flat=True).first()
    qs = Evento.objects.filter(audiencia__overlap=grupos).order_by("id")
    if cursor_en is not None:
        qs = qs.filter(id__gt=desde) | qs.filter(id__lte=desde, creado_en__gte=cursor_en - VENTANA_REORDEN)
        qs = qs.order_by("id")
    else:
        qs = qs.filter(id__gt=desde)
    eventos = list(qs[: limite + 1])
    if len(eventos) > limite:
        return Reproduccion([], resync=True)
    return Reproduccion(eventos, resync=False)


def ultimo_id() -> int:
    return Evento.objects.order_by("-id").values_list("id", flat=True).first() or 0
