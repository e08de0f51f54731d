"""Realtime metrics: sockets, the per-process sender and delivery."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

# Gauges are summed over the live processes (multiprocess mode): a dead process's sockets are gone.
CONEXIONES = Gauge(
    "gad_realtime_conexiones", "WebSocket connections open now, by role", ["rol"], multiprocess_mode="livesum"
)
CONEXIONES_TOTAL = Counter("gad_realtime_conexiones_aceptadas_total", "WebSocket connections accepted")
FRAMES = Counter("gad_realtime_frames_enviados_total", "Event frames sent to sockets")
DIFUSIONES = Counter("gad_realtime_difusiones_total", "Group sends to the channel layer")
ERRORES = Counter("gad_realtime_errores_envio_total", "Failed sends to the channel layer or a socket")
LATIDO = Gauge("gad_realtime_latido_timestamp_seconds", "Unix time of the last heartbeat sent", multiprocess_mode="max")
ENTREGA = Histogram(
    "gad_realtime_entrega_seconds",
    "Delivery lag: from the event's commit to its frame sent on a socket",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CAPA = Histogram(
    "gad_realtime_capa_envio_seconds",
    "Channel-layer send latency: one pass of the sender's group sends to Redis",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
# Where an event's time goes between its commit and its frame on a socket, stage by stage (the
# sum is ENTREGA): `emisor`, waiting in this process's sender for its pass (commits queue while a
# pass is in flight); `capa`, from the pass's group_send to the consumer holding the message
# (Redis, the receiving process's channel-layer reader); `socket`, the consumer writing its frames.
# REALTIME_TRAZA=1 also logs each alert's, SOS's and task assignment's timestamps (realtime.consumers).
ETAPA = Histogram(
    "gad_realtime_etapa_seconds",
    "Delivery by stage: in the sender's queue (emisor), through the channel layer (capa), onto the socket (socket)",
    ["etapa"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
for _etapa in ("emisor", "capa", "socket"):
    ETAPA.labels(etapa=_etapa)
PENDIENTES = Gauge(
    "gad_realtime_envios_pendientes",
    "Event-log backlog: committed events waiting in the processes' senders",
    multiprocess_mode="livesum",
)
REPRODUCIDOS = Counter("gad_realtime_reproducidos_total", "Events sent by replay from PostgreSQL")
HUECOS = Counter(
    "gad_realtime_huecos_total",
    "Live messages a socket found missing (a jump in its sender's sequence): its client was told to resync",
)
CIERRES_LENTOS = Counter("gad_realtime_cierres_lentos_total", "Sockets closed for falling too far behind")

for _rol in ("administrador", "comandante", "efectivo"):  # Rol: every series exists from the start
    CONEXIONES.labels(rol=_rol)


class RegistroDeEventos:
    """The event log as PostgreSQL holds it, read at scrape time: its last id (how far publishing
    got, whichever process wrote it) and its rows (the replay window)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with connection.cursor() as c:
            c.execute("SELECT coalesce(max(id), 0), count(*) FROM realtime_evento")
            ultimo, filas = c.fetchone()
        yield GaugeMetricFamily("gad_eventos_ultimo_id", "Id of the last event written to the event log", value=ultimo)
        yield GaugeMetricFamily("gad_eventos_filas", "Events kept in the event log (replay window)", value=filas)
