from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from efectivos.models import Efectivo, EstadoEfectivo

ESTADOS_DISPOSITIVO = ("en_contacto", "sin_contacto", "nunca", "revocado")


class EfectivosPorEstado:
    """`gad_efectivos{estado}`: efectivos by availability, read at scrape time (every state listed,
    at 0 when none is in it)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        filas = dict(Efectivo.objects.values_list("estado").annotate(n=Count("id")).values_list("estado", "n"))
        g = GaugeMetricFamily("gad_efectivos", "Efectivos by availability", labels=["estado"])
        for estado in EstadoEfectivo.values:
            g.add_metric([estado], filas.get(estado, 0))
        yield g


class DispositivosPorEstado:
    """`gad_dispositivos{estado}`: tracker devices in contact within SIN_REPORTE_MIN, silent
    longer, never heard from, revoked; `gad_dispositivos_bateria_baja`: those in contact whose
    battery is under DISPOSITIVO_BATERIA_BAJA_PCT."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with connection.cursor() as c:
            c.execute(
                """
                SELECT CASE WHEN revocado_en IS NOT NULL THEN 'revocado'
                            WHEN ultimo_contacto_en IS NULL THEN 'nunca'
                            WHEN ultimo_contacto_en > now() - make_interval(mins => %s) THEN 'en_contacto'
                            ELSE 'sin_contacto' END,
                       count(*),
                       count(*) FILTER (WHERE bateria_pct < %s)
                FROM efectivos_dispositivo GROUP BY 1
                """,
                [settings.SIN_REPORTE_MIN, settings.DISPOSITIVO_BATERIA_BAJA_PCT],
            )
            filas = {estado: (n, bajas) for estado, n, bajas in c.fetchall()}
        g = GaugeMetricFamily("gad_dispositivos", "Tracker devices by contact state", labels=["estado"])
        for estado in ESTADOS_DISPOSITIVO:
            g.add_metric([estado], filas.get(estado, (0, 0))[0])
        yield g
        yield GaugeMetricFamily(
            "gad_dispositivos_bateria_baja",
            "Devices in contact whose battery is under DISPOSITIVO_BATERIA_BAJA_PCT",
            value=filas.get("en_contacto", (0, 0))[1],
        )
