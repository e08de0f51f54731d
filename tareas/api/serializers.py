from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gad_project.api.campos import EnteroEstricto, FechaAcotada, NumeroEstricto, TextoEstricto
from tareas.models import Asignacion, EstadoTarea, Prioridad, Tarea, TareaEvento, TipoTarea


class AsignacionSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()

    class Meta:
        model = Asignacion
        fields = (
            "id",
            "efectivo",
            "efectivo_nombre",
            "estado",
            "distancia_m",
            "asignada_en",
            "respondida_en",
            "llegada_en",
            "llegada_distancia_m",
            "vence_en",
            "liberada_en",
            "motivo",
        )
        read_only_fields = fields

    def get_efectivo_nombre(self, obj: Asignacion) -> str:
        return f"{obj.efectivo.apellido}, {obj.efectivo.nombre}"


class TareaSerializer(serializers.ModelSerializer):
    lat = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()
    asignaciones = AsignacionSerializer(many=True, read_only=True)

    class Meta:
        model = Tarea
        fields = (
            "id",
            "codigo",
            "titulo",
            "descripcion",
            "tipo",
            "prioridad",
            "estado",
            "unidad",
            "lat",
            "lon",
            "lugar",
            "inicio_programado",
            "fin_programado",
            "inicio_real",
            "fin_real",
            "tiempo_pausado",
            "delegado",
            "creada_por",
            "creada_en",
            "requeridos",
            "corta_desde",
            "plazo_aceptar_s",
            "asignaciones",
        )
        read_only_fields = fields

    def get_lat(self, obj: Tarea) -> float | None:
        return obj.ubicacion.y if obj.ubicacion else None

    def get_lon(self, obj: Tarea) -> float | None:
        return obj.ubicacion.x if obj.ubicacion else None


class TareaEntradaSerializer(serializers.Serializer):
    titulo = TextoEstricto(max_length=200)
    descripcion = TextoEstricto(required=False, allow_blank=True, default="")
    tipo = serializers.ChoiceField(choices=TipoTarea.choices, default=TipoTarea.PATRULLAJE)
    prioridad = serializers.ChoiceField(choices=Prioridad.choices, default=Prioridad.NORMAL)
    unidad = EnteroEstricto(required=False, min_value=1, max_value=2**62)
    lat = NumeroEstricto(required=False, min_value=-90, max_value=90)
    lon = NumeroEstricto(required=False, min_value=-180, max_value=180)
    inicio_programado = FechaAcotada(required=False)
    fin_programado = FechaAcotada(required=False)
    plazo_aceptar_s = EnteroEstricto(
        required=False,
        allow_null=True,
        min_value=10,
        max_value=86_400,
        help_text="Segundos para aceptar (10 a 86.400); vacío: el de su prioridad (DESPACHO_ACEPTAR_S).",
    )

    def validate(self, datos):
        if ("lat" in datos) != ("lon" in datos):
            raise serializers.ValidationError({"lat": "lat y lon van juntas."})
        inicio, fin = datos.get("inicio_programado"), datos.get("fin_programado")
        if inicio and fin and fin < inicio:
            raise serializers.ValidationError({"fin_programado": "Debe ser posterior al inicio."})
        return datos


class AsignarSerializer(serializers.Serializer):
    efectivos = serializers.ListField(child=EnteroEstricto(min_value=1, max_value=2**62), required=False, max_length=50)
    cercanos = EnteroEstricto(required=False, min_value=1, max_value=20)
    radio_m = NumeroEstricto(required=False, min_value=1, max_value=200_000)
    especialidad = serializers.CharField(required=False, max_length=40)

    def validate(self, datos):
        if bool(datos.get("efectivos")) == bool(datos.get("cercanos")):
            raise serializers.ValidationError("Indique `efectivos` (lista de ids) o `cercanos` (cantidad), no ambos.")
        return datos


class LiberarSerializer(serializers.Serializer):
    efectivo = EnteroEstricto(min_value=1, max_value=2**62)
    motivo = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class ReasignarSerializer(serializers.Serializer):
    de = EnteroEstricto(min_value=1, max_value=2**62, help_text="El efectivo asignado que deja la tarea.")
    a = EnteroEstricto(min_value=1, max_value=2**62, help_text="El efectivo disponible que la toma.")


class MotivoSerializer(serializers.Serializer):
    motivo = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class EmergenciaSerializer(serializers.Serializer):
    lat = NumeroEstricto(min_value=-90, max_value=90)
    lon = NumeroEstricto(min_value=-180, max_value=180)
    descripcion = TextoEstricto(max_length=2000)
    efectivos = EnteroEstricto(required=False, min_value=1, max_value=10, default=1)


class TareaEventoSerializer(serializers.ModelSerializer):
    # Null: the system did it (a timeout's release, a re-dispatch).
    usuario: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)
    estado_anterior = serializers.SerializerMethodField()

    class Meta:
        model = TareaEvento
        fields = ("id", "usuario", "estado_anterior", "estado_nuevo", "motivo", "ocurrido_en")
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=EstadoTarea.choices, allow_null=True))
    def get_estado_anterior(self, evento: TareaEvento) -> str | None:
        """Null for the event that created the task."""
        return evento.estado_anterior or None


class CercanoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    codigo_interno = serializers.CharField()
    nombre = serializers.CharField()
    unidad = serializers.IntegerField()
    distancia_m = serializers.FloatField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    ultima_posicion_en = serializers.DateTimeField()


class _EfectivosPorEstadoSerializer(serializers.Serializer):
    disponibles = serializers.IntegerField()
    en_tarea = serializers.IntegerField()
    fuera_servicio = serializers.IntegerField()
    no_disponibles = serializers.IntegerField()


class EstadisticaUnidadSerializer(serializers.Serializer):
    unidad = serializers.IntegerField()
    codigo = serializers.CharField()
    nombre = serializers.CharField()
    efectivos = _EfectivosPorEstadoSerializer()
    tareas_abiertas_por_prioridad = serializers.DictField(
        child=serializers.IntegerField(), help_text="Prioridad (1 a 5) → tareas abiertas."
    )
    respuesta_media_s = serializers.FloatField(allow_null=True)
    calculada_en = serializers.DateTimeField()


class EfectivoEstadisticasSerializer(serializers.Serializer):
    efectivo = serializers.IntegerField()
    dias = serializers.IntegerField()
    por_estado = serializers.DictField(child=serializers.IntegerField(), help_text="Estado → tareas.")
    duracion_media_s = serializers.FloatField(allow_null=True)
    tasa_finalizacion = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
