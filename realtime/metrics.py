"""Realtime metrics, under the ggrt_ names operators already use."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ACTIVE_CONNECTIONS = Gauge("ggrt_active_connections", "WebSocket connections open now")
ACTIVE_CONNECTIONS_BY_ROLE = Gauge("ggrt_active_connections_by_role", "Open connections by role", ["rol"])
CONNECTIONS_TOTAL = Counter("ggrt_connections_total", "WebSocket connections accepted")
MESSAGES_SENT = Counter("ggrt_messages_sent_total", "Frames sent to sockets")
BROADCASTS = Counter("ggrt_broadcasts_total", "Group sends to the channel layer")
SEND_ERRORS = Counter("ggrt_send_errors_total", "Failed sends to the channel layer or a socket")
HEARTBEAT = Gauge("ggrt_heartbeat_timestamp", "Unix time of the last heartbeat sent")
LATENCY = Histogram(
    "ggrt_message_latency_seconds",
    "From event commit to frame sent on a socket",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REPLAYED = Counter("ggrt_replayed_events_total", "Events sent by replay from PostgreSQL")
SLOW_CLOSES = Counter("ggrt_slow_closes_total", "Sockets closed for falling too far behind")
