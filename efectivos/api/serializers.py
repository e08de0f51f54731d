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


class TurnoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    inicio = serializers.DateTimeField()
    fin = serializers.DateTimeField()
    funcion = serializers.CharField()
    inicio_real = serializers.DateTimeField(allow_null=True, help_text="Cuándo inició el servicio.")
    fin_real = serializers.DateTimeField(allow_null=True, help_text="Cuándo lo terminó, si antes del fin.")


class ServicioEntradaSerializer(serializers.Serializer):
    accion = serializers.ChoiceField(choices=["inicio", "fin"])


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
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    posicion_en = serializers.DateTimeField(allow_null=True)
    en_servicio = serializers.BooleanField(
        help_text="En un turno ahora (fuera de servicio no se guardan sus lecturas)."
    )
    turno = TurnoSerializer(allow_null=True)


class EstadoEntradaSerializer(serializers.Serializer):
    # `en_tarea` is set by the task state machine, never by the efectivo.
    estado = serializers.ChoiceField(choices=["disponible", "no_disponible", "fuera_servicio"])


class AccesoSerializer(serializers.Serializer):
    """One read of an officer's data by someone else (GET /api/v1/yo/accesos/)."""

    id = serializers.IntegerField()
    cuando = serializers.DateTimeField()
    quien = serializers.CharField()
    rol = serializers.CharField(allow_null=True)
    unidad = serializers.CharField(allow_null=True)
    que = serializers.CharField()
    motivo = serializers.CharField(allow_null=True)
    motivo_texto = serializers.CharField(allow_null=True)
    motivo_detalle = serializers.CharField(allow_null=True)
    interfaz = serializers.CharField()
    desde = serializers.CharField(allow_null=True)
    hasta = serializers.CharField(allow_null=True)
    formato = serializers.CharField(allow_null=True)
