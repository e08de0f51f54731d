from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.db import models


class Evento(models.Model):
    """The durable outbox and event log. `id` is the cursor clients resume from."""

    tipo = models.CharField(max_length=40)
    datos = models.JSONField()
    audiencia = ArrayField(models.CharField(max_length=80), help_text="Grupos que pueden verlo.")
    creado_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "evento"
        verbose_name_plural = "eventos"
        ordering = ["id"]
        indexes = [
            GinIndex(fields=["audiencia"], name="evento_audiencia_gin"),
            BrinIndex(fields=["creado_en"], name="evento_creado_brin"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.tipo}"


class Poda(models.Model):
    """One run of the retention task. `hasta_id` is the largest event id it deleted: a client whose
    cursor is below the largest `hasta_id` may have missed events that no longer exist."""

    hasta_id = models.BigIntegerField()
    borrados = models.PositiveIntegerField()
    ejecutada_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "poda de eventos"
        verbose_name_plural = "podas de eventos"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Poda hasta #{self.hasta_id} ({self.borrados} eventos)"
