from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.core.exceptions import ValidationError
from django.db.models import Func, Q, Value
from django.db.models.functions import Concat, Lower, Now
from django.utils import timezone

from gad_project.cifrado import EnteroCifrado, IndiceCifrado, expresion_indice


class RangoHorario(models.Func):
    """tstzrange(inicio, fin): a shift's window, for the no-overlap constraint."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Rol(models.TextChoices):
    ADMINISTRADOR = "administrador", "Administrador"
    COMANDANTE = "comandante", "Comandante"
    EFECTIVO = "efectivo", "Efectivo"


class Unidad(models.Model):
    codigo = models.CharField("código", max_length=32, unique=True)
    nombre = models.CharField(max_length=200)
    jurisdiccion = models.MultiPolygonField("jurisdicción", srid=4326, null=True, blank=True)

    class Meta:
        verbose_name = "unidad"
        verbose_name_plural = "unidades"
        ordering = ["codigo"]

    def __str__(self) -> str:
        return f"{self.codigo} · {self.nombre}"


class Usuario(AbstractUser):
    rol = models.CharField(max_length=20, choices=Rol.choices, default=Rol.EFECTIVO, db_index=True)
    unidad = models.ForeignKey(
        Unidad,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="usuarios",
        help_text="Para un comandante, el alcance de lo que ve y opera.",
    )
    # Encrypted, with a blind index for the bot's lookups and uniqueness (gad_project.cifrado).
    telegram_id = EnteroCifrado(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "usuario"
        verbose_name_plural = "usuarios"
        constraints = [
            models.UniqueConstraint(expresion_indice("telegram_id"), name="usuario_telegram_unico"),
            models.CheckConstraint(
                condition=~Q(rol=Rol.COMANDANTE) | Q(unidad__isnull=False),
                name="comandante_con_unidad",
                violation_error_message="Un comandante debe tener una unidad.",
            ),
        ]

    @property
    def es_mando(self) -> bool:
        return self.is_superuser or self.rol in (Rol.ADMINISTRADOR, Rol.COMANDANTE)

    @property
    def es_admin(self) -> bool:
        return self.is_superuser or self.rol == Rol.ADMINISTRADOR


class EstadoEfectivo(models.TextChoices):
    DISPONIBLE = "disponible", "Disponible"
    EN_TAREA = "en_tarea", "En tarea"
    FUERA_SERVICIO = "fuera_servicio", "Fuera de servicio"
    NO_DISPONIBLE = "no_disponible", "No disponible"


class Efectivo(models.Model):
    usuario = models.OneToOneField(Usuario, on_delete=models.SET_NULL, null=True, blank=True, related_name="efectivo")
    codigo_interno = models.CharField("código interno", max_length=32, unique=True)
    dni = IndiceCifrado("DNI", max_length=16)  # encrypted; unique by its blind index (gad_project.cifrado)
    nombre = models.CharField(max_length=100)
    apellido = models.CharField(max_length=100)
    # What the map's search compares (mapa.selectors.buscar): code, surname and name, lower case and
    # without accents, kept by PostgreSQL. Stored, so a search reads it instead of running unaccent
    # over every row (15.7 of a search's 40 ms at 10,000 efectivos); gad_unaccent is the IMMUTABLE
    # wrapper a generated column needs (migration efectivos 0014).
    buscado = models.GeneratedField(
        expression=Func(
            Lower(
                Concat("codigo_interno", Value(" "), "apellido", Value(" "), "nombre", output_field=models.TextField())
            ),
            function="gad_unaccent",
            output_field=models.TextField(),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )
    rango = models.CharField(max_length=60, blank=True)
    # No single-column index: (unidad, estado) below serves it, and every index costs on the
    # position update that each reading makes.
    unidad = models.ForeignKey(Unidad, on_delete=models.PROTECT, related_name="efectivos", db_index=False)
    especialidades = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    estado = models.CharField(max_length=20, choices=EstadoEfectivo.choices, default=EstadoEfectivo.DISPONIBLE)
    # Since when in that state: kept by a database trigger on every UPDATE that changes `estado`
    # (services, bulk updates of a dispatch, the admin), so no path can forget it.
    estado_desde = models.DateTimeField("en ese estado desde", db_default=Now(), editable=False)
    ultima_posicion = models.PointField("última posición", srid=4326, null=True, blank=True)
    ultima_posicion_en = models.DateTimeField("última posición (hora del equipo)", null=True, blank=True)
    ultima_precision_m = models.FloatField("precisión (m)", null=True, blank=True)
    # The track of readings set aside as implausible (posiciones.plausibilidad): its newest reading,
    # when it began and how many it holds, while more readings consistent with it may still confirm
    # it. Plain numbers: it is never searched by place, so it needs no spatial index.
    descartada_lon = models.FloatField(null=True, blank=True, editable=False)
    descartada_lat = models.FloatField(null=True, blank=True, editable=False)
    descartada_en = models.DateTimeField(null=True, blank=True, editable=False)
    descartada_precision_m = models.FloatField(null=True, blank=True, editable=False)
    descartada_desde = models.DateTimeField(null=True, blank=True, editable=False)
    descartadas_n = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "efectivo"
        verbose_name_plural = "efectivos"
        ordering = ["apellido", "nombre"]
        constraints = [models.UniqueConstraint(expresion_indice("dni"), name="efectivo_dni_unico")]
        indexes = [
            models.Index(fields=["unidad", "estado"]),
            GinIndex(fields=["especialidades"], name="efectivo_especialidades_gin"),
            # Plus efectivo_geog_disponible_gist, a partial GiST index on the geography of the
            # positions of available efectivos (dispatch ranks only those, geodesically), created
            # with SQL in migration 0003: Django cannot express an index on a cast, and its PostGIS
            # schema editor drops the condition of a one-geometry-field index.
        ]

    def __str__(self) -> str:
        return f"{self.apellido}, {self.nombre} ({self.codigo_interno})"

    def clean(self) -> None:
        # The DNI is unique by its blind index, which model validation cannot see through.
        super().clean()
        if self.dni and Efectivo.objects.filter(dni=self.dni).exclude(pk=self.pk).exists():
            raise ValidationError({"dni": "Ya hay un efectivo con ese DNI."})


class FuentePosicion(models.TextChoices):
    API = "api", "API"
    TELEGRAM = "telegram", "Telegram"
    SIMULADOR = "simulador", "Simulador"
    TRACCAR = "traccar", "Traccar Client"
    OWNTRACKS = "owntracks", "OwnTracks"


class TipoDispositivo(models.TextChoices):
    TRACCAR = "traccar", "Traccar Client"
    OWNTRACKS = "owntracks", "OwnTracks"


class Dispositivo(models.Model):
    """A phone tracker app that reports an efectivo's positions (posiciones.protocolos).

    Its credential is a random secret (128 bits or more) shown once and stored as its SHA-256: for
    Traccar Client it is the device `id` the app sends, for OwnTracks the HTTP Basic password (with
    `usuario`, public). A fast hash is enough for a random secret of that size (no dictionary to
    try), and it is what lets the ingest find the device by an index. Revoked devices stay, with
    their history; a reading from one is refused with 403 and audited."""

    efectivo = models.ForeignKey(Efectivo, on_delete=models.CASCADE, related_name="dispositivos")
    tipo = models.CharField(max_length=12, choices=TipoDispositivo.choices)
    etiqueta = models.CharField(
        max_length=80, blank=True, help_text="Por ejemplo, el teléfono o su número de inventario."
    )
    usuario = models.CharField("usuario (OwnTracks)", max_length=40, unique=True, null=True, blank=True, editable=False)
    credencial_hash = models.CharField(max_length=64, unique=True, editable=False)
    creado_por = models.ForeignKey(Usuario, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    creado_en = models.DateTimeField(auto_now_add=True)
    revocado_en = models.DateTimeField(null=True, blank=True, editable=False)
    ultimo_contacto_en = models.DateTimeField("último contacto", null=True, blank=True, editable=False)
    ultima_lectura_en = models.DateTimeField("última lectura (hora del equipo)", null=True, blank=True, editable=False)
    bateria_pct = models.FloatField("batería (%)", null=True, blank=True, editable=False)
    cargando = models.BooleanField(null=True, blank=True, editable=False)
    app = models.CharField("aplicación", max_length=80, blank=True, editable=False)
    ultimo_rechazo = models.CharField("último rechazo", max_length=200, blank=True, editable=False)
    ultimo_rechazo_en = models.DateTimeField(null=True, blank=True, editable=False)
    # OwnTracks only: a commander asked for its position; the next answer to the phone carries
    # `reportLocation`, and when that answer went out is recorded.
    ubicacion_pedida_en = models.DateTimeField(null=True, blank=True, editable=False)
    ubicacion_pedida_enviada_en = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "dispositivo"
        verbose_name_plural = "dispositivos"
        ordering = ["efectivo", "-creado_en"]

    def __str__(self) -> str:
        return f"{self.get_tipo_display()} · {self.etiqueta or self.pk}"

    @property
    def activo(self) -> bool:
        return self.revocado_en is None


class Posicion(models.Model):
    """Position history: append-only and large. Written only by posiciones_registrar.

    Range-partitioned by day of `registrada_en` and kept POSICIONES_RETENCION_DIAS days
    (gad_project/particiones.py, migration 0006): the table's primary key is (id, registrada_en),
    its unique key (id_cliente, registrada_en): a retried reading is stored once."""

    # No single-column index: posicion_efectivo_fecha (efectivo, registrada_en) serves the same
    # lookups, and every index is paid on each of the millions of inserts.
    efectivo = models.ForeignKey(Efectivo, on_delete=models.CASCADE, related_name="posiciones", db_index=False)
    punto = models.PointField(srid=4326)
    registrada_en = models.DateTimeField("registrada (hora del equipo)")
    recibida_en = models.DateTimeField("recibida")
    precision_m = models.FloatField("precisión (m)", null=True, blank=True)
    velocidad_kmh = models.FloatField("velocidad (km/h)", null=True, blank=True)
    rumbo = models.FloatField(null=True, blank=True)
    fuente = models.CharField(max_length=12, choices=FuentePosicion.choices)
    # Who posted a reading for another efectivo (a commander or an admin through the API); null when
    # it came from the efectivo's own account or device. No foreign key: it costs a lookup on every
    # insert, and users are deactivated, never deleted, once they have a trail.
    registrada_por = models.ForeignKey(
        "Usuario",
        verbose_name="registrada por",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="Quien la envió en nombre del efectivo; vacío si la envió su propio equipo o cuenta.",
    )
    # Unique with the device time (the partition column): see the constraint below.
    id_cliente = models.UUIDField(default=uuid.uuid4)
    implausible = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Implica una velocidad imposible desde la última posición aceptada: guardada, no usada.",
    )

    class Meta:
        verbose_name = "posición"
        verbose_name_plural = "posiciones"
        indexes = [
            models.Index(fields=["efectivo", "registrada_en"], name="posicion_efectivo_fecha"),
            BrinIndex(fields=["recibida_en"], name="posicion_recibida_brin"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_cliente", "registrada_en"], name="posicion_id_cliente_unica"),
        ]

    def __str__(self) -> str:
        return f"{self.efectivo_id} @ {timezone.localtime(self.registrada_en):%d/%m/%Y %H:%M:%S}"


class Turno(models.Model):
    """A roster entry (*turno*): an efectivo's shift in their unidad, set by its commanders (admin,
    CSV import). The officer signs on ("Inicio de servicio", from TURNO_TOLERANCIA_MIN before the
    start until the end) and off ("Fin de servicio"); on duty is inside the window
    [inicio_real or inicio, fin_real or fin). Readings taken off duty are not stored
    (posiciones.services), unless the officer has an active SOS or an open task."""

    efectivo = models.ForeignKey(Efectivo, on_delete=models.CASCADE, related_name="turnos")
    inicio = models.DateTimeField()
    fin = models.DateTimeField()
    funcion = models.CharField("función", max_length=60, blank=True, help_text="Rol en el turno (p. ej. chofer).")
    inicio_real = models.DateTimeField("inicio de servicio", null=True, blank=True, editable=False)
    fin_real = models.DateTimeField("fin de servicio", null=True, blank=True, editable=False)
    creado_por = models.ForeignKey(
        "efectivos.Usuario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "turno"
        verbose_name_plural = "turnos"
        ordering = ["-inicio"]
        # The duty check looks for the shift that has not ended yet (efectivo_de_servicio).
        indexes = [models.Index(fields=["efectivo", "fin"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin__gt=models.F("inicio")),
                name="turno_fin_despues_del_inicio",
                violation_error_message="El fin del turno debe ser posterior a su inicio.",
            ),
            ExclusionConstraint(
                name="turno_sin_superposicion",
                expressions=[
                    ("efectivo", RangeOperators.EQUAL),
                    (RangoHorario("inicio", "fin"), RangeOperators.OVERLAPS),
                ],
                violation_error_message="El efectivo ya tiene un turno que se superpone con ese horario.",
            ),
        ]

    def clean(self) -> None:
        # Before the constraints: a reversed window is no range to compare for overlaps.
        super().clean()
        if self.inicio and self.fin and self.fin <= self.inicio:
            raise ValidationError({"fin": "El fin del turno debe ser posterior a su inicio."})

    def __str__(self) -> str:
        desde, hasta = timezone.localtime(self.inicio), timezone.localtime(self.fin)
        return f"{self.efectivo} · {desde:%d/%m %H:%M}–{hasta:%H:%M}"
