from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q


class TipoGeocerca(models.TextChoices):
    RESTRINGIDA = "restringida", "Zona restringida (alerta al entrar)"
    PERIMETRO = "perimetro", "Perímetro (alerta al salir)"
    CONTROL = "control", "Control (alerta al entrar y al salir)"


class Severidad(models.TextChoices):
    INFO = "info", "Informativa"
    ADVERTENCIA = "advertencia", "Advertencia"
    CRITICA = "critica", "Crítica"


class Geocerca(models.Model):
    nombre = models.CharField(max_length=200)
    descripcion = models.TextField("descripción", blank=True)
    tipo = models.CharField(max_length=12, choices=TipoGeocerca.choices)
    geom = models.MultiPolygonField("geometría", srid=4326)
    activa = models.BooleanField(default=True)
    unidades = models.ManyToManyField(
        "efectivos.Unidad",
        blank=True,
        related_name="geocercas",
        help_text="Vacío: se aplica a todas las unidades.",
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
    version = models.PositiveIntegerField(default=1, editable=False)
    creada_en = models.DateTimeField(auto_now_add=True)
    actualizada_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "geocerca"
        verbose_name_plural = "geocercas"
        ordering = ["nombre"]
        constraints = [
            models.CheckConstraint(condition=Q(histeresis_m__gte=0), name="geocerca_histeresis_no_negativa"),
        ]
        indexes = [
            # The engine asks MAX(histeresis_m) of active fences on every batch: an index answer.
            models.Index(fields=["histeresis_m"], condition=Q(activa=True), name="geocerca_histeresis_activa"),
        ]

    def __str__(self) -> str:
        return self.nombre


class Presencia(models.Model):
    """Whether an efectivo is inside a geocerca: the state that turns positions into transitions."""

    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="presencias")
    geocerca = models.ForeignKey(Geocerca, on_delete=models.CASCADE, related_name="presencias")
    dentro = models.BooleanField()
    desde = models.DateTimeField()
    permanencia_alertada = models.BooleanField(default=False)

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


class TipoAlerta(models.TextChoices):
    ENTRADA = "entrada", "Entrada"
    SALIDA = "salida", "Salida"
    PERMANENCIA = "permanencia", "Permanencia"


class Alerta(models.Model):
    tipo = models.CharField(max_length=12, choices=TipoAlerta.choices)
    efectivo = models.ForeignKey("efectivos.Efectivo", on_delete=models.CASCADE, related_name="alertas")
    geocerca = models.ForeignKey(Geocerca, on_delete=models.CASCADE, related_name="alertas")
    posicion = models.ForeignKey(
        "efectivos.Posicion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    punto = models.PointField(srid=4326, null=True, blank=True)
    ocurrida_en = models.DateTimeField()
    creada_en = models.DateTimeField(auto_now_add=True)
    severidad = models.CharField(max_length=12, choices=Severidad.choices)
    reconocida_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reconocida_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "alerta"
        verbose_name_plural = "alertas"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["efectivo", "-id"], name="alerta_efectivo_id"),
            models.Index(fields=["geocerca", "-id"], name="alerta_geocerca_id"),
            models.Index(fields=["-id"], condition=Q(reconocida_en__isnull=True), name="alerta_pendiente"),
        ]

    def __str__(self) -> str:
        return f"{self.get_tipo_display()} · {self.geocerca_id} · {self.efectivo_id}"
