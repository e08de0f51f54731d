from __future__ import annotations

from typing import Any

from rest_framework import serializers


class IngestaRespuestaSerializer(serializers.Serializer[Any]):
    aceptadas = serializers.IntegerField(help_text="Guardadas (incluye las implausibles).")
    duplicadas = serializers.IntegerField()
    fuera_de_servicio = serializers.IntegerField(
        help_text="Tomadas fuera de servicio (sin turno ni servicio iniciado, SOS o tarea abierta): descartadas, "
        "no se guardan; el equipo puede olvidarlas."
    )
    implausibles = serializers.IntegerField(
        help_text="Guardadas pero marcadas: implican una velocidad imposible desde la última posición aceptada."
    )
    imprecisas = serializers.IntegerField(
        help_text="Guardadas con un error declarado mayor que PRECISION_DECIDIR_M: nunca cuentan como salida de una zona."
    )


class LecturaSerializer(serializers.Serializer[Any]):
    """Documentation of one reading (validation itself is posiciones.lecturas)."""

    id_cliente = serializers.UUIDField(help_text="Generado por el equipo; repetirlo es idempotente.")
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    registrada_en = serializers.DateTimeField(help_text="Hora del equipo, ISO 8601 con zona horaria.")
    precision_m = serializers.FloatField(required=False, min_value=0)
    velocidad_kmh = serializers.FloatField(required=False, min_value=0)
    rumbo = serializers.FloatField(required=False, min_value=0, max_value=360)
    efectivo = serializers.IntegerField(required=False, help_text="Por defecto, el propio.")
