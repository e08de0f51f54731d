"""What the map's JSON endpoints answer, for the OpenAPI document."""

from __future__ import annotations

from rest_framework import serializers


class _FeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = serializers.ListField(child=serializers.DictField())


class MapaDatosSerializer(serializers.Serializer):
    cursor = serializers.IntegerField(help_text="Último id de evento antes de leer: el socket sigue desde ahí.")
    efectivos = _FeatureCollectionSerializer()
    tareas = _FeatureCollectionSerializer(help_text="Tareas abiertas.")
    jurisdicciones = _FeatureCollectionSerializer()


class _TareaBreveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    codigo = serializers.CharField()
    titulo = serializers.CharField()
    estado = serializers.CharField()
    prioridad = serializers.IntegerField()


class EfectivoPanelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    codigo = serializers.CharField()
    nombre = serializers.CharField()
    rango = serializers.CharField()
    unidad = serializers.CharField()
    especialidades = serializers.ListField(child=serializers.CharField())
    estado = serializers.CharField()
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    ultima_posicion_en = serializers.DateTimeField(allow_null=True)
    precision_m = serializers.FloatField(allow_null=True)
    tiene_usuario = serializers.BooleanField()
    telegram_vinculado = serializers.BooleanField()
    tareas = _TareaBreveSerializer(many=True)
    ahora = serializers.DateTimeField()
