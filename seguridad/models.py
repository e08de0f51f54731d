"""Officer safety: an efectivo's SOS, kept in the database from the tap until a commander (or the
efectivo, for a false alarm) resolves it, so no restart of any process loses it."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q

from gad_project.cifrado import TextoCifrado
from mapa.campos import LugarField


class EstadoSos(models.TextChoices):
    ACTIVO = "activo", "Activo"
    RESUELTO = "resuelto", "Resuelto"


class FuenteSos(models.TextChoices):
    API = "api", "API"
    TELEGRAM = "telegram", "Telegram"
    EQUIPO = "equipo", "Equipo de seguimiento (botón SOS)"
    CAMPO = "campo", "App de campo"
    BIENESTAR = "bienestar", "Control de bienestar sin respuesta"


class Sos(models.Model):
    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.PROTECT, related_name="sos")
    estado = models.CharField(max_length=10, choices=EstadoSos.choices, default=EstadoSos.ACTIVO)
    fuente = models.CharField(max_length=10, choices=FuenteSos.choices)
    punto = models.PointField(srid=4326, null=True, blank=True, help_text="Vacío hasta conocer la ubicación.")
    lugar = LugarField()
    precision_m = models.FloatField(null=True, blank=True)
    tarea = models.ForeignKey(
        "tareas.Tarea",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="La emergencia con la que se despachó el refuerzo.",
    )
    # The client's id for this SOS (the field app queues it offline and may send it twice): a
    # replay is the same SOS, even after it was resolved.
    id_cliente = models.UUIDField(null=True, blank=True, unique=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    resuelto_en = models.DateTimeField(null=True, blank=True)
    resuelto_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    nota = TextoCifrado(blank=True)  # encrypted at rest (gad_project.cifrado)

    class Meta:
        verbose_name = "SOS"
        verbose_name_plural = "SOS"
        ordering = ["-id"]
        constraints = [
            # One active SOS per efectivo: a second tap is the same emergency, not a new one.
            models.UniqueConstraint(fields=["efectivo"], condition=Q(estado="activo"), name="sos_uno_activo"),
        ]
        indexes = [models.Index(fields=["-id"], condition=Q(estado="activo"), name="sos_activo")]

    def __str__(self) -> str:
        return f"SOS {self.pk} · {self.efectivo}"


class SinReporte(models.Model):
    """An efectivo in service (disponible or en_tarea) whose last fix is older than SIN_REPORTE_MIN:
    raised once per silence, closed when a newer fix arrives (or they go off duty)."""

    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="silencios")
    ultima_posicion_en = models.DateTimeField(help_text="La última posición antes del silencio.")
    punto = models.PointField(srid=4326, null=True, blank=True, help_text="Dónde se lo vio por última vez.")
    # The newest contact of any of their tracker devices when the silence was raised: a phone
    # still in contact but without a fresh fix (no GPS indoors, readings rejected) is not a phone
    # that went dark. Null: no device contact at all.
    contacto_en = models.DateTimeField(
        "último contacto de su equipo", null=True, blank=True, help_text="Vacío: ningún equipo en contacto."
    )
    creado_en = models.DateTimeField()
    cerrado_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sin reporte"
        verbose_name_plural = "sin reporte"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["efectivo"], condition=Q(cerrado_en__isnull=True), name="sin_reporte_uno_abierto"
            ),
        ]

    def __str__(self) -> str:
        return f"Sin reporte · {self.efectivo}"


class EstadoBienestar(models.TextChoices):
    AL_DIA = "al_dia", "Al día"
    PEDIDO = "pedido", "Esperando respuesta"
    FALLIDO = "fallido", "Sin respuesta"
    TERMINADO = "terminado", "Terminado"


class ControlBienestar(models.Model):
    """A welfare check-in cadence for one efectivo (*control de bienestar*): every `intervalo_min`
    (tightened while at risk) they are asked to answer "Estoy bien"; a miss warns their commanders
    and two in a row raise an SOS on their behalf."""

    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="controles")
    intervalo_min = models.FloatField("cada (min)")
    creado_por = models.ForeignKey("efectivos.Usuario", on_delete=models.PROTECT, related_name="+")
    tarea = models.ForeignKey(
        "tareas.Tarea",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Iniciado para una tarea.",
    )
    estado = models.CharField(max_length=10, choices=EstadoBienestar.choices, default=EstadoBienestar.AL_DIA)
    creado_en = models.DateTimeField(auto_now_add=True)
    proximo_en = models.DateTimeField("próximo pedido")
    pedido_en = models.DateTimeField(null=True, blank=True, help_text="El pedido en curso.")
    vence_en = models.DateTimeField(null=True, blank=True)
    ultima_respuesta_en = models.DateTimeField(null=True, blank=True)
    ultima_via = models.CharField(max_length=10, blank=True, help_text="campo | telegram | posicion")
    fallos_seguidos = models.PositiveSmallIntegerField(default=0)
    fallos = models.PositiveIntegerField(default=0)
    respuestas = models.PositiveIntegerField(default=0)
    sos = models.ForeignKey(Sos, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    terminado_en = models.DateTimeField(null=True, blank=True)
    terminado_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "control de bienestar"
        verbose_name_plural = "controles de bienestar"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["efectivo"], condition=Q(terminado_en__isnull=True), name="bienestar_uno_activo"
            ),
        ]
        indexes = [
            models.Index(fields=["proximo_en"], condition=Q(terminado_en__isnull=True), name="bienestar_proximo"),
            models.Index(fields=["vence_en"], condition=Q(terminado_en__isnull=True), name="bienestar_vence"),
        ]

    def __str__(self) -> str:
        return f"Control de bienestar · {self.efectivo}"
