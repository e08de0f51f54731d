from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q
from django.utils import timezone

from mapa.campos import LugarField

# The largest gap between two fixes a fence may accept as evidence of a crossing (seconds).
CRUCE_MAX_S_TOPE = 900


class TipoGeocerca(models.TextChoices):
    RESTRINGIDA = "restringida", "Zona restringida (alerta al entrar)"
    PERIMETRO = "perimetro", "Perímetro (alerta al salir)"
    CONTROL = "control", "Control (alerta al entrar y al salir)"
    CORREDOR = "corredor", "Corredor (alerta al salir de la ruta)"


class Severidad(models.TextChoices):
    INFO = "info", "Informativa"
    ADVERTENCIA = "advertencia", "Advertencia"
    CRITICA = "critica", "Crítica"


class Geocerca(models.Model):
    nombre = models.CharField(max_length=200)
    descripcion = models.TextField("descripción", blank=True)
    tipo = models.CharField(max_length=12, choices=TipoGeocerca.choices)
    geom = models.MultiPolygonField(
        "geometría", srid=4326, blank=True, help_text="Un corredor la obtiene de su ruta y su ancho."
    )
    ruta = models.LineStringField(
        srid=4326, null=True, blank=True, help_text="Solo corredores: el eje del recorrido, sin cruces."
    )
    ancho_m = models.FloatField("ancho (m)", null=True, blank=True, help_text="Solo corredores: ancho total.")
    horario_dias = ArrayField(
        models.PositiveSmallIntegerField(),
        default=list,
        blank=True,
        verbose_name="días",
        help_text="Días en que rige (1 = lunes … 7 = domingo; vacío: todos). Un horario nocturno pertenece "
        "al día en que empieza.",
    )
    horario_desde = models.TimeField("rige desde", null=True, blank=True, help_text="Hora local; vacío: todo el día.")
    horario_hasta = models.TimeField(
        "rige hasta",
        null=True,
        blank=True,
        help_text="Hora local, excluida; antes de «desde»: termina al día siguiente.",
    )
    activa = models.BooleanField(default=True)
    unidades = models.ManyToManyField(
        "efectivos.Unidad",
        blank=True,
        related_name="geocercas",
        help_text="Vacío: se aplica a todas las unidades.",
    )
    efectivos = models.ManyToManyField(
        "efectivos.Efectivo",
        blank=True,
        related_name="geocercas_propias",
        help_text="Si se indican, se aplica solo a estos efectivos (no a toda la unidad).",
    )
    tarea = models.ForeignKey(
        "tareas.Tarea",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="geocercas",
        help_text="Si se indica, se aplica solo a los efectivos asignados a esta tarea mientras lo estén "
        "(p. ej. el corredor de una escolta).",
    )
    severidad = models.CharField(max_length=12, choices=Severidad.choices, default=Severidad.ADVERTENCIA)
    histeresis_m = models.FloatField(
        "histéresis (m)",
        default=15.0,
        help_text="Margen a cada lado del borde: evita alertas repetidas por el ruido del GPS.",
    )
    permanencia_min_s = models.PositiveIntegerField(
        "permanencia mínima (s)",
        null=True,
        blank=True,
        help_text="Si se indica, alerta una vez por estadía cuando alguien permanece dentro este tiempo.",
    )
    cruce_max_s = models.PositiveIntegerField(
        "cruce: separación máxima (s)",
        null=True,
        blank=True,
        validators=[MinValueValidator(10), MaxValueValidator(CRUCE_MAX_S_TOPE)],
        help_text="Se infiere que alguien la atravesó entre dos lecturas (ninguna adentro) solo si están "
        "separadas a lo sumo esto (10 a 900 s). Vacío: el valor general (GEOCERCA_CRUCE_MAX_S).",
    )
    confirmar_lecturas = models.PositiveSmallIntegerField(
        "lecturas para confirmar",
        default=1,
        db_default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Lecturas seguidas del otro lado del borde para contar una entrada o salida (1 a 5). Con 2, "
        "un salto del GPS o una precisión que miente no alertan: la alerta llega con la lectura siguiente.",
    )
    entrada_min_s = models.PositiveIntegerField(
        "permanencia para contar la entrada (s)",
        default=0,
        db_default=0,
        validators=[MaxValueValidator(3600)],
        help_text="Una entrada cuenta solo si sigue adentro este tiempo (0 a 3600 s): quien pasa por el borde no alerta.",
    )
    escalar = models.BooleanField(
        "escalar", default=True, db_default=True, help_text="Escalar sus alertas si siguen pendientes."
    )
    notificar_a = models.ManyToManyField(
        "efectivos.Usuario",
        blank=True,
        related_name="geocercas_notificadas",
        verbose_name="avisar a",
        help_text="Mandos que reciben sus alertas escaladas por Telegram (vacío: los de su unidad y los administradores).",
    )
    silenciada_hasta = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Hasta cuándo sus alertas se registran sin avisar."
    )
    silenciada_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    silencio_motivo = models.CharField(max_length=200, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    creada_en = models.DateTimeField(auto_now_add=True)
    actualizada_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "geocerca"
        verbose_name_plural = "geocercas"
        ordering = ["nombre"]
        constraints = [
            models.CheckConstraint(condition=Q(histeresis_m__gte=0), name="geocerca_histeresis_no_negativa"),
            models.CheckConstraint(
                condition=Q(cruce_max_s__isnull=True) | Q(cruce_max_s__gte=10, cruce_max_s__lte=CRUCE_MAX_S_TOPE),
                name="geocerca_cruce_max_s_rango",
            ),
            models.CheckConstraint(
                condition=Q(tipo=TipoGeocerca.CORREDOR, ruta__isnull=False, ancho_m__gt=0)
                | (~Q(tipo=TipoGeocerca.CORREDOR) & Q(ruta__isnull=True, ancho_m__isnull=True)),
                name="geocerca_corredor_con_ruta_y_ancho",
            ),
            models.CheckConstraint(
                condition=Q(horario_desde__isnull=True, horario_hasta__isnull=True)
                | (Q(horario_desde__isnull=False, horario_hasta__isnull=False) & ~Q(horario_desde=F("horario_hasta"))),
                name="geocerca_horario_completo",
            ),
        ]
        indexes = [
            # The engine asks MAX(histeresis_m) of active fences on every batch: an index answer.
            models.Index(fields=["histeresis_m"], condition=Q(activa=True), name="geocerca_histeresis_activa"),
        ]

    def __str__(self) -> str:
        return self.nombre

    def vigente_en(self, momento: datetime) -> bool:
        """Whether it applies at `momento`: active, and within its schedule if it has one."""
        from geocercas.engine import Horario

        horario = Horario.de(self.horario_dias, self.horario_desde, self.horario_hasta)
        return self.activa and (horario is None or horario.rige(timezone.localtime(momento)))

    def vigencia_cambia_en(self, momento: datetime) -> datetime | None:
        """When its schedule next makes it start or stop applying (local time), or None."""
        from geocercas.engine import Horario

        horario = Horario.de(self.horario_dias, self.horario_desde, self.horario_hasta)
        if not self.activa or horario is None:
            return None
        return horario.proximo_cambio(timezone.localtime(momento))

    def clean(self) -> None:
        """The rules the API and the admin share (the service computes a corridor's geometry)."""
        errores: dict[str, str] = {}
        if self.tipo == TipoGeocerca.CORREDOR:
            if self.ruta is None:
                errores["ruta"] = "Un corredor necesita su ruta (una línea)."
            elif not self.ruta.simple:
                errores["ruta"] = "La ruta del corredor se cruza a sí misma."
            if self.ancho_m is None or not 5 <= self.ancho_m <= 5000:
                errores["ancho_m"] = "El ancho de un corredor va de 5 a 5000 m."
        elif not self.geom:
            errores["geom"] = "Falta la geometría (un Polygon o MultiPolygon)."
        if (self.horario_desde is None) != (self.horario_hasta is None):
            errores["horario_hasta"] = "Indique las dos horas del horario, o ninguna."
        elif self.horario_desde is not None and self.horario_desde == self.horario_hasta:
            errores["horario_hasta"] = "Las horas de inicio y fin deben ser distintas."
        if any(not 1 <= d <= 7 for d in self.horario_dias):
            errores["horario_dias"] = "Los días van de 1 (lunes) a 7 (domingo)."
        elif len(set(self.horario_dias)) != len(self.horario_dias):
            errores["horario_dias"] = "Hay días repetidos."
        if errores:
            raise ValidationError(errores)


class Presencia(models.Model):
    """Whether an efectivo is inside a geocerca: the state that turns positions into transitions."""

    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="presencias")
    geocerca = models.ForeignKey(Geocerca, on_delete=models.CASCADE, related_name="presencias")
    dentro = models.BooleanField()
    desde = models.DateTimeField()
    permanencia_alertada = models.BooleanField(default=False)
    # Readings in a row clearly on the other side, while the fence asks for more than one
    # (Geocerca.confirmar_lecturas) before the state changes.
    pendientes = models.PositiveSmallIntegerField(default=0, db_default=0)
    pendiente_desde = models.DateTimeField(null=True, blank=True)  # the first of those readings
    # The last of them and the fix before it, {"x": fix, "p": fix} with a fix as
    # [lon, lat, device time, precision_m, posicion_id]: what the next reading weighs a lone fix
    # against (geocercas.engine).
    evidencia = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "presencia"
        verbose_name_plural = "presencias"
        constraints = [
            models.UniqueConstraint(fields=["efectivo", "geocerca"], name="presencia_unica"),
        ]
        indexes = [
            # The dwell sweep looks only at open stays that have not alerted yet.
            models.Index(
                fields=["desde"],
                condition=Q(dentro=True, permanencia_alertada=False),
                name="presencia_dentro_pendiente",
            )
        ]

    def __str__(self) -> str:
        lugar = "dentro de" if self.dentro else "fuera de"
        return f"{self.efectivo.codigo_interno} {lugar} {self.geocerca.nombre}"


class TipoAlerta(models.TextChoices):
    ENTRADA = "entrada", "Entrada"
    SALIDA = "salida", "Salida"
    PERMANENCIA = "permanencia", "Permanencia"


class EstadoAlerta(models.TextChoices):
    PENDIENTE = "pendiente", "Pendiente"
    RECONOCIDA = "reconocida", "Reconocida"
    EN_ATENCION = "en_atencion", "En atención"
    RESUELTA = "resuelta", "Resuelta"


# Open alerts: at most one per (efectivo, geocerca, tipo); a repeat is counted on it.
ALERTA_ABIERTA = ~Q(estado=EstadoAlerta.RESUELTA)


class Alerta(models.Model):
    """A geofence alert and its lifecycle: pendiente → reconocida → en atención → resuelta.
    While open, the same transition again (an efectivo walking along the fence) increments
    `repeticiones` instead of raising a new alert."""

    tipo = models.CharField(max_length=12, choices=TipoAlerta.choices)
    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="alertas")
    geocerca = models.ForeignKey(Geocerca, on_delete=models.CASCADE, related_name="alertas")
    # The reading that raised it, by id: no database constraint (positions are partitioned by
    # day and dropped after their retention; the alert keeps its own point and times).
    posicion = models.ForeignKey(
        "efectivos.Posicion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    punto = models.PointField(srid=4326, null=True, blank=True, help_text="Dónde ocurrió la última vez.")
    lugar = LugarField()
    ocurrida_en = models.DateTimeField(help_text="La primera vez.")
    ultima_en = models.DateTimeField("última vez", help_text="La última repetición (la primera si no hubo).")
    repeticiones = models.PositiveIntegerField(default=1)
    creada_en = models.DateTimeField(auto_now_add=True)
    severidad = models.CharField(max_length=12, choices=Severidad.choices)
    estado = models.CharField(max_length=12, choices=EstadoAlerta.choices, default=EstadoAlerta.PENDIENTE)
    reconocida_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reconocida_en = models.DateTimeField(null=True, blank=True)
    atendida_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    atendida_en = models.DateTimeField(null=True, blank=True)
    resuelta_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resuelta_en = models.DateTimeField(null=True, blank=True)
    cruce = models.BooleanField(
        "entre lecturas",
        default=False,
        db_default=False,
        help_text="Inferida: el tramo entre dos lecturas atravesó la geocerca (ninguna cayó dentro).",
    )
    escalada_en = models.DateTimeField(
        null=True, blank=True, help_text="Cuándo se escaló por seguir pendiente (ALERTA_ESCALAR_MIN)."
    )
    silenciada = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Su geocerca estaba silenciada: se registró sin sonar, avisar ni escalar.",
    )

    class Meta:
        verbose_name = "alerta"
        verbose_name_plural = "alertas"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["efectivo", "geocerca", "tipo"], condition=ALERTA_ABIERTA, name="alerta_abierta_unica"
            ),
        ]
        indexes = [
            models.Index(fields=["efectivo", "-id"], name="alerta_efectivo_id"),
            models.Index(fields=["geocerca", "-id"], name="alerta_geocerca_id"),
            models.Index(fields=["-id"], condition=Q(estado=EstadoAlerta.PENDIENTE), name="alerta_pendiente"),
            models.Index(fields=["-id"], condition=ALERTA_ABIERTA, name="alerta_abierta"),
        ]

    def __str__(self) -> str:
        # What the admin's title and breadcrumbs show: what happened, where, to whom, when (local).
        cuando = timezone.localtime(self.ocurrida_en) if self.ocurrida_en else None
        return f"{self.get_tipo_display()} · {self.geocerca} · {self.efectivo}" + (
            f" · {cuando:%d/%m %H:%M}" if cuando else ""
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.ultima_en is None:
            self.ultima_en = self.ocurrida_en
        super().save(*args, **kwargs)


class AlertaNota(models.Model):
    """The alert's history: each change of state, who made it, when, and their note."""

    alerta = models.ForeignKey(Alerta, on_delete=models.CASCADE, related_name="notas")
    estado = models.CharField(max_length=12, choices=EstadoAlerta.choices)
    usuario = models.ForeignKey("efectivos.Usuario", on_delete=models.PROTECT, related_name="+")
    nota = models.TextField(blank=True)
    en = models.DateTimeField()

    class Meta:
        verbose_name = "nota de alerta"
        verbose_name_plural = "notas de alerta"
        ordering = ["alerta", "id"]

    def __str__(self) -> str:
        return f"{self.alerta_id} → {self.estado}"
