from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from efectivos.models import Efectivo


class EfectivoGeoSerializer(GeoFeatureModelSerializer):
    unidad_codigo = serializers.CharField(source="unidad.codigo", read_only=True)

    class Meta:
        model = Efectivo
        geo_field = "ultima_posicion"
        fields = (
            "id",
            "codigo_interno",
            "nombre",
            "apellido",
            "rango",
            "unidad",
            "unidad_codigo",
            "especialidades",
            "estado",
            "ultima_posicion_en",
            "ultima_precision_m",
        )
        read_only_fields = fields


class IngestaRespuestaSerializer(serializers.Serializer):
    aceptadas = serializers.IntegerField(help_text="Guardadas (incluye las implausibles).")
    duplicadas = serializers.IntegerField()
    implausibles = serializers.IntegerField(
        help_text="Guardadas pero marcadas: implican una velocidad imposible desde la última posición aceptada."
    )
    imprecisas = serializers.IntegerField(
        help_text="Guardadas con un error declarado mayor que PRECISION_DECIDIR_M: nunca cuentan como salida de una zona."
    )


class LecturaSerializer(serializers.Serializer):
    """Documentation of one reading (validation itself is efectivos.api.lecturas)."""

    id_cliente = serializers.UUIDField(help_text="Generado por el equipo; repetirlo es idempotente.")
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    registrada_en = serializers.DateTimeField(help_text="Hora del equipo, ISO 8601 con zona horaria.")
    precision_m = serializers.FloatField(required=False, min_value=0)
    velocidad_kmh = serializers.FloatField(required=False, min_value=0)
    rumbo = serializers.FloatField(required=False, min_value=0, max_value=360)
    efectivo = serializers.IntegerField(required=False, help_text="Por defecto, el propio.")


class RecorridoSerializer(serializers.Serializer):
    efectivo = serializers.IntegerField()
    desde = serializers.DateTimeField()
    hasta = serializers.DateTimeField()
    lecturas = serializers.IntegerField(help_text="Lecturas en la ventana (más que `puntos` si se raleó).")
    puntos = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=5, max_length=5),
        help_text="[lon, lat, registrada_en, implausible, registrada_por], de la más antigua a la más nueva. "
        "Una implausible (velocidad imposible desde la anterior aceptada) no forma parte del trazo; "
        "registrada_por es el usuario que la envió en nombre del efectivo (null: su propio equipo o cuenta).",
    )


class YoSerializer(serializers.Serializer):
    """The signed-in user as the mobile app needs them: who, their role, their efectivo record
    (None for commanders and admins without one) and whether Telegram is linked."""

    usuario = serializers.CharField()
    nombre = serializers.CharField()
    rol = serializers.CharField()
    efectivo = serializers.IntegerField(allow_null=True)
    codigo = serializers.CharField(allow_null=True)
    unidad = serializers.CharField(allow_null=True)
    estado = serializers.CharField(allow_null=True)
    telegram_vinculado = serializers.BooleanField()


class EstadoEntradaSerializer(serializers.Serializer):
    # `en_tarea` is set by the task state machine, never by the efectivo.
    estado = serializers.ChoiceField(choices=["disponible", "no_disponible", "fuera_servicio"])
