from __future__ import annotations

from django.db import models
from django.utils import timezone


class CodigoVinculacion(models.Model):
    """A single-use, short-lived code that binds one Telegram account to one efectivo's user."""

    usuario = models.ForeignKey("efectivos.Usuario", on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the code: the code itself is shown once to whoever generated it and never stored.
    codigo = models.CharField(max_length=64, unique=True)
    creado_por = models.ForeignKey("efectivos.Usuario", on_delete=models.SET_NULL, null=True, related_name="+")
    creado_en = models.DateTimeField(auto_now_add=True)
    vence_en = models.DateTimeField()
    usado_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "código de vinculación"
        verbose_name_plural = "códigos de vinculación"

    def __str__(self) -> str:
        return f"Vinculación de {self.usuario} (vence {timezone.localtime(self.vence_en):%d/%m/%Y %H:%M})"


class EstadoNotificacion(models.TextChoices):
    PENDIENTE = "pendiente", "Pendiente"
    ENVIADA = "enviada", "Enviada"
    FALLIDA = "fallida", "Fallida"


class Notificacion(models.Model):
    """One outgoing Telegram message and its delivery record."""

    usuario = models.ForeignKey("efectivos.Usuario", on_delete=models.CASCADE, related_name="+")
    # By id, no database constraint: the event log is partitioned by day and pruned.
    evento = models.ForeignKey(
        "realtime.Evento", on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )
    texto = models.TextField()
    botones = models.JSONField(default=list, blank=True)
    # Sent after the text as a Telegram venue (a pin the efectivo can open in their maps app):
    # {"lat", "lon", "titulo", "direccion"}. None: text only.
    ubicacion = models.JSONField(null=True, blank=True)
    # A message from command this notification carries: its delivery is recorded when sent.
    entrega = models.ForeignKey("mensajes.Entrega", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    estado = models.CharField(max_length=12, choices=EstadoNotificacion.choices, default=EstadoNotificacion.PENDIENTE)
    intentos = models.PositiveSmallIntegerField(default=0)
    ultimo_error = models.TextField(blank=True)
    proximo_intento_en = models.DateTimeField(null=True, blank=True)
    creada_en = models.DateTimeField(auto_now_add=True)
    enviada_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "notificación"
        verbose_name_plural = "notificaciones"
        constraints = [
            models.UniqueConstraint(fields=["usuario", "evento"], name="notificacion_unica_por_evento"),
        ]
        indexes = [
            models.Index(fields=["estado", "creada_en"]),
            models.Index(
                fields=["proximo_intento_en"], condition=models.Q(estado="pendiente"), name="notificacion_pendiente"
            ),
        ]

    def __str__(self) -> str:
        return f"Notificación #{self.pk} ({self.estado})"


class ActualizacionProcesada(models.Model):
    """Telegram update ids already handled: a replayed update (a restart re-reading getUpdates, a
    webhook retry) is recognised and ignored. Telegram keeps undelivered updates for 24 h, so ids
    older than a week are pruned (telegram_bot.tasks.podar)."""

    update_id = models.BigIntegerField(primary_key=True)
    procesada_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "actualización procesada"
        verbose_name_plural = "actualizaciones procesadas"

    def __str__(self) -> str:
        return f"Update {self.update_id}"


class Progreso(models.Model):
    """How far the notification generator has read the event log (one row)."""

    ultimo_evento_id = models.BigIntegerField(default=0)
    actualizado_en = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Hasta el evento {self.ultimo_evento_id}"


class EmergenciaPendiente(models.Model):
    """`/emergencia <descripción>` waiting for the location that dispatches it: in the database,
    so a restart of the bot between the two messages loses nothing."""

    usuario = models.OneToOneField("efectivos.Usuario", on_delete=models.CASCADE, primary_key=True, related_name="+")
    descripcion = models.TextField()
    creada_en = models.DateTimeField()

    class Meta:
        verbose_name = "emergencia por despachar"
        verbose_name_plural = "emergencias por despachar"

    def __str__(self) -> str:
        return f"{self.usuario_id}: {self.descripcion[:40]}"
