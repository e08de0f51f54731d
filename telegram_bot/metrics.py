from __future__ import annotations

from prometheus_client import Counter, Histogram

COMANDOS = Histogram(
    "gad_bot_comando_seconds",
    "Time the bot takes to handle a command, button or location (until its replies are sent)",
    ["comando"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5),
)
ACTUALIZACIONES = Counter("gad_bot_actualizaciones_total", "Telegram updates received", ["tipo"])
NOTIFICACIONES = Counter("gad_bot_notificaciones_total", "Notification delivery attempts by outcome", ["resultado"])


class NotificacionesPorEstado:
    """`gad_bot_notificaciones_estado{estado}` read from the database at scrape time: the delivery records
    are shared by every worker, so /metrics on any web process shows the real backlog."""

    def describe(self):
        # Without describe(), registering would call collect() — a query during app start-up.
        from prometheus_client.core import GaugeMetricFamily

        yield GaugeMetricFamily("gad_bot_notificaciones_estado", "Notifications by delivery state", labels=["estado"])
        yield GaugeMetricFamily("gad_bot_notificaciones_intentos", "Delivery attempts over all notifications")

    def collect(self):
        from django.db.models import Count, Sum
        from prometheus_client.core import GaugeMetricFamily

        from telegram_bot.models import EstadoNotificacion, Notificacion

        g = GaugeMetricFamily("gad_bot_notificaciones_estado", "Notifications by delivery state", labels=["estado"])
        filas = dict(Notificacion.objects.values_list("estado").annotate(n=Count("id")).values_list("estado", "n"))
        for estado in EstadoNotificacion.values:
            g.add_metric([estado], filas.get(estado, 0))
        yield g
        extra = Notificacion.objects.aggregate(intentos=Sum("intentos"))
        yield GaugeMetricFamily(
            "gad_bot_notificaciones_intentos", "Delivery attempts over all notifications", value=extra["intentos"] or 0
        )


# What telegram_bot.bot measures with _medido (tests/telegram_bot checks the list).
MEDIDOS = (
    "accesos",
    "ayuda",
    "boton",
    "emergencia",
    "estado",
    "servicio",
    "sos",
    "start",
    "tareas",
    "ubicacion",
    "ubicacion_reenviada",
)
for _c in MEDIDOS:
    COMANDOS.labels(comando=_c)
for _r in ("enviada", "reintento", "fallida"):  # every series exists from the start
    NOTIFICACIONES.labels(resultado=_r)
for _t in ("mensaje", "edicion", "boton", "duplicada", "no_privada"):
    ACTUALIZACIONES.labels(tipo=_t)
