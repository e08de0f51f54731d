"""The audit trail: django-auditlog's log entry (who, what, before/after, when, from where),
extended with the interface, the actor's role and unidad, and a hash chain.

The chain is kept by PostgreSQL (migration 0001): when the writing transaction commits, a deferred
trigger takes an advisory lock, numbers the record (`secuencia`) after the last one and sets
`anterior` to that record's hash and `hash` to sha256(anterior ‖ secuencia ‖ the record as jsonb ‖
its timestamp as epoch). Another trigger refuses UPDATE and DELETE except for that sealing and the
retention sweep. `manage.py auditoria_verificar` recomputes every hash in
order and names the first record that does not match (auditoria.services.cadena_verificar)."""

from __future__ import annotations

from auditlog.models import AbstractLogEntry
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Interfaz(models.TextChoices):
    API = "api", "API"
    MAPA = "mapa", "Mapa"
    ADMIN = "admin", "Administración"
    TELEGRAM = "telegram", "Telegram"
    EQUIPO = "equipo", "Equipo de seguimiento (Traccar, OwnTracks)"
    SISTEMA = "sistema", "Sistema (tareas programadas, comandos)"


class Registro(AbstractLogEntry):
    interfaz = models.CharField(max_length=10, choices=Interfaz.choices, default=Interfaz.SISTEMA)
    rol = models.CharField(max_length=20, blank=True, default="")
    unidad = models.ForeignKey(
        "efectivos.Unidad", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    secuencia = models.BigIntegerField(null=True, editable=False, unique=True)
    anterior = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "registro de auditoría"
        verbose_name_plural = "registros de auditoría"
        ordering = ["-secuencia"]
        indexes = [
            models.Index(fields=["content_type", "object_pk"]),
            models.Index(fields=["actor", "timestamp"]),
            # "Who looked at my data" (auditoria.selectors.accesos_a): reads that name efectivos.
            GinIndex(
                fields=["additional_data"],
                opclasses=["jsonb_path_ops"],
                name="auditoria_acceso_datos",
                condition=models.Q(action=3),
            ),
        ]


class Ancla(models.Model):
    """Where the chain starts after the retention sweep deleted its oldest records: the hash of
    the last record deleted (one row)."""

    hash = models.CharField(max_length=64)
    secuencia = models.BigIntegerField()
    podada_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ancla de la cadena"
        verbose_name_plural = "ancla de la cadena"

    def __str__(self) -> str:
        return f"Ancla en el registro n.º {self.secuencia}"
