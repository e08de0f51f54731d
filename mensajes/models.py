"""Messages from command to the street: who wrote what to whom, and for each recipient when it
reached them, when they read it and (urgent ones) when they acknowledged it; their replies.
Kept as long as the alerts are (neither is pruned)."""

from __future__ import annotations

from django.contrib.gis.db import models

from gad_project.cifrado import TextoCifrado


class Destino(models.TextChoices):
    EFECTIVOS = "efectivos", "Efectivos elegidos"
    UNIDAD = "unidad", "Una unidad"
    AREA = "area", "Quienes están en un área"
    RADIO = "radio", "Quienes están cerca de un punto"
    TODOS = "todos", "Todos los de su alcance"


TEXTO_MAX = 2000


class Mensaje(models.Model):
    autor = models.ForeignKey("efectivos.Usuario", on_delete=models.PROTECT, related_name="+")
    texto = TextoCifrado(max_length=TEXTO_MAX)  # encrypted at rest (gad_project.cifrado)
    urgente = models.BooleanField(default=False, help_text="Pide confirmación explícita; se reenvía por Telegram.")
    destino = models.CharField(max_length=10, choices=Destino.choices)
    unidad = models.ForeignKey("efectivos.Unidad", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The area (a drawn polygon, or the circle of a radius) as it was at sending time.
    area = models.MultiPolygonField(srid=4326, null=True, blank=True)
    creado_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "mensaje"
        verbose_name_plural = "mensajes"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Mensaje {self.pk} de {self.autor}"


class Entrega(models.Model):
    """One recipient of a message and what happened to it on their side."""

    mensaje = models.ForeignKey(Mensaje, on_delete=models.CASCADE, related_name="entregas")
    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="mensajes")
    entregado_en = models.DateTimeField(null=True, blank=True)
    entregado_por = models.CharField(max_length=10, blank=True, help_text="campo | telegram")
    leido_en = models.DateTimeField(null=True, blank=True)
    confirmado_en = models.DateTimeField(null=True, blank=True)
    reenvios = models.PositiveSmallIntegerField(default=0)
    ultimo_reenvio_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "entrega"
        verbose_name_plural = "entregas"
        constraints = [models.UniqueConstraint(fields=["efectivo", "mensaje"], name="entrega_unica")]
        indexes = [
            models.Index(fields=["efectivo", "-mensaje"], name="entrega_efectivo_mensaje"),
            # The urgent re-send sweep: unacknowledged deliveries only.
            models.Index(
                fields=["mensaje"], condition=models.Q(confirmado_en__isnull=True), name="entrega_sin_confirmar"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mensaje_id} → {self.efectivo_id}"


class Respuesta(models.Model):
    """An officer's text reply to a message."""

    mensaje = models.ForeignKey(Mensaje, on_delete=models.CASCADE, related_name="respuestas")
    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="+")
    texto = TextoCifrado(max_length=TEXTO_MAX)  # encrypted at rest (gad_project.cifrado)
    creada_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "respuesta"
        verbose_name_plural = "respuestas"
        ordering = ["mensaje", "id"]

    def __str__(self) -> str:
        return f"Respuesta {self.pk} a {self.mensaje_id}"
