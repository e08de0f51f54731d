from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from efectivos.models import Efectivo, EstadoEfectivo


class EfectivosPorEstado:
    """`gad_efectivos{estado}`: efectivos by availability, read at scrape time (every state listed,
    at 0 when none is in it)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        filas = dict(Efectivo.objects.values_list("estado").annotate(n=Count("id")).values_list("estado", "n"))
        g = GaugeMetricFamily("gad_efectivos", "Efectivos by availability", labels=["estado"])
        for estado in EstadoEfectivo.values:
            g.add_metric([estado], filas.get(estado, 0))
        yield g
