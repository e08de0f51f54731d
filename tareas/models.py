from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone

from gad_project.cifrado import TextoCifrado
from mapa.campos import LugarField


class TipoTarea(models.TextChoices):
    PATRULLAJE = "patrullaje", "Patrullaje"
    INVESTIGACION = "investigacion", "Investigación"
    VIGILANCIA = "vigilancia", "Vigilancia"
    INTERVENCION = "intervencion", "Intervención"
    ADMINISTRATIVA = "administrativa", "Administrativa"
    ENTRENAMIENTO = "entrenamiento", "Entrenamiento"
    EMERGENCIA = "emergencia", "Emergencia"


class Prioridad(models.IntegerChoices):
    BAJA = 1, "Baja"
    NORMAL = 2, "Normal"
    ALTA = 3, "Alta"
    URGENTE = 4, "Urgente"
    CRITICA = 5, "Crítica"


class EstadoTarea(models.TextChoices):
    PROGRAMADA = "programada", "Programada"
    ASIGNADA = "asignada", "Asignada"
    EN_CURSO = "en_curso", "En curso"
    PAUSADA = "pausada", "Pausada"
    FINALIZADA = "finalizada", "Finalizada"
    CANCELADA = "cancelada", "Cancelada"


ESTADOS_ABIERTOS = (
    EstadoTarea.PROGRAMADA,
    EstadoTarea.ASIGNADA,
    EstadoTarea.EN_CURSO,
    EstadoTarea.PAUSADA,
)


class Tarea(models.Model):
    codigo = models.CharField("código", max_length=24, unique=True, editable=False)
    titulo = models.CharField("título", max_length=200)
    descripcion = models.TextField("descripción", blank=True)
    tipo = models.CharField(max_length=16, choices=TipoTarea.choices, default=TipoTarea.PATRULLAJE)
    prioridad = models.PositiveSmallIntegerField(choices=Prioridad.choices, default=Prioridad.NORMAL)
    estado = models.CharField(max_length=12, choices=EstadoTarea.choices, default=EstadoTarea.PROGRAMADA)
    unidad = models.ForeignKey("efectivos.Unidad", on_delete=models.PROTECT, related_name="tareas")
    ubicacion = models.PointField("ubicación", srid=4326, null=True, blank=True)
    lugar = LugarField()
    inicio_programado = models.DateTimeField(null=True, blank=True)
    fin_programado = models.DateTimeField(null=True, blank=True)
    inicio_real = models.DateTimeField(null=True, blank=True)
    fin_real = models.DateTimeField(null=True, blank=True)
    pausada_en = models.DateTimeField(null=True, blank=True, editable=False)
    tiempo_pausado = models.DurationField(null=True, blank=True)
    delegado = models.ForeignKey(
        "efectivos.Efectivo",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Efectivo a cargo de la tarea.",
    )
    creada_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    creada_en = models.DateTimeField(auto_now_add=True)
    actualizada_en = models.DateTimeField(auto_now=True)
    # The efectivo who reported it (an SOS, an emergency from the bot): never dispatched to it.
    reportante = models.ForeignKey(
        "efectivos.Efectivo", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How many efectivos the task asked for: re-dispatch fills it back up when one times out or
    # turns it down (0: never dispatched).
    requeridos = models.PositiveSmallIntegerField(default=0)
    # Set when re-dispatch found nobody in range ("sin cubrir"); cleared when filled or reopened.
    corta_desde = models.DateTimeField("sin cubrir desde", null=True, blank=True)
    # Seconds an assignee has to accept; empty: DESPACHO_ACEPTAR_S for the task's priority.
    plazo_aceptar_s = models.PositiveIntegerField("plazo para aceptar (s)", null=True, blank=True)
    efectivos = models.ManyToManyField("efectivos.Efectivo", through="Asignacion", related_name="tareas", blank=True)

    class Meta:
        verbose_name = "tarea"
        verbose_name_plural = "tareas"
        ordering = ["-prioridad", "-creada_en"]
        indexes = [
            models.Index(fields=["unidad", "estado"]),
            models.Index(fields=["estado", "-prioridad"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin_programado__isnull=True)
                | Q(inicio_programado__isnull=True)
                | Q(fin_programado__gte=models.F("inicio_programado")),
                name="tarea_fin_despues_de_inicio",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.codigo} · {self.titulo}"


class EstadoAsignacion(models.TextChoices):
    PENDIENTE = "pendiente", "Pendiente"
    ACEPTADA = "aceptada", "Aceptada"
    RECHAZADA = "rechazada", "Rechazada"
    LIBERADA = "liberada", "Liberada"


class Asignacion(models.Model):
    tarea = models.ForeignKey(Tarea, on_delete=models.CASCADE, related_name="asignaciones")
    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="asignaciones")
    estado = models.CharField(max_length=12, choices=EstadoAsignacion.choices, default=EstadoAsignacion.PENDIENTE)
    distancia_m = models.FloatField("distancia (m)", null=True, blank=True)
    asignada_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    asignada_en = models.DateTimeField(auto_now_add=True)
    respondida_en = models.DateTimeField(null=True, blank=True)
    liberada_en = models.DateTimeField(null=True, blank=True)
    # Until when a pending assignment may be accepted; past it the sweep releases it and
    # dispatches the next nearest (tareas.services.despacho.asignaciones_vencer).
    vence_en = models.DateTimeField("vence", null=True, blank=True)
    # Why it ended without being carried out: the rejection's reason, "sin respuesta", "liberada
    # por el mando", "reasignada".
    motivo = TextoCifrado(max_length=300, blank=True)  # encrypted at rest (gad_project.cifrado)
    # "Llegué": when the efectivo said they reached the task's place, and how far from it their
    # last fix was at that moment (None without a fix or a place).
    llegada_en = models.DateTimeField("llegada", null=True, blank=True)
    llegada_distancia_m = models.FloatField("distancia al llegar (m)", null=True, blank=True)

    class Meta:
        verbose_name = "asignación"
        verbose_name_plural = "asignaciones"
        constraints = [
            # One live assignment per (task, efectivo); rejected/released ones stay as history.
            models.UniqueConstraint(
                fields=["tarea", "efectivo"],
                condition=Q(estado__in=["pendiente", "aceptada"]),
                name="asignacion_viva_unica",
            ),
        ]
        indexes = [
            models.Index(fields=["efectivo", "estado"]),
            # The timeout sweep: only pending ones, by deadline.
            models.Index(fields=["vence_en"], condition=Q(estado="pendiente"), name="asignacion_pendiente_vence"),
        ]

    def __str__(self) -> str:
        return f"{self.tarea.codigo} → {self.efectivo.codigo_interno} · {self.get_estado_display()}"


class TareaEvento(models.Model):
    """Every state change of a task: who, from, to, why, when. Append-only."""

    tarea = models.ForeignKey(Tarea, on_delete=models.CASCADE, related_name="eventos")
    usuario = models.ForeignKey("efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    estado_anterior = models.CharField(max_length=12, choices=EstadoTarea.choices, blank=True)
    estado_nuevo = models.CharField(max_length=12, choices=EstadoTarea.choices)
    motivo = TextoCifrado(max_length=300, blank=True)  # encrypted at rest (gad_project.cifrado)
    ocurrido_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "evento de tarea"
        verbose_name_plural = "eventos de tareas"
        ordering = ["tarea", "id"]

    def __str__(self) -> str:
        cuando = timezone.localtime(self.ocurrido_en).strftime("%d/%m/%Y %H:%M") if self.ocurrido_en else "—"
        cambio = f"{self.get_estado_anterior_display() or 'nueva'} → {self.get_estado_nuevo_display()}"
        return f"{self.tarea.codigo} · {cambio} · {cuando}"


class EstadisticaUnidad(models.Model):
    """Read-only: the materialized view `tareas_estadistica_unidad` (migration 0002)."""

    unidad = models.OneToOneField("efectivos.Unidad", on_delete=models.DO_NOTHING, primary_key=True, related_name="+")
    codigo = models.CharField(max_length=32)
    nombre = models.CharField(max_length=200)
    disponibles = models.IntegerField()
    en_tarea = models.IntegerField()
    fuera_servicio = models.IntegerField()
    no_disponibles = models.IntegerField()
    abiertas_por_prioridad = models.JSONField()
    respuesta_media_s = models.FloatField(null=True)
    calculada_en = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "tareas_estadistica_unidad"
        verbose_name = "estadística de unidad"
        verbose_name_plural = "estadísticas de unidades"

    def __str__(self) -> str:
        return f"{self.codigo} · {self.nombre}"
