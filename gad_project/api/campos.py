"""Strict input fields. DRF's own accept `true` as 1 for numbers, `5` as "5" for text and any
year for dates; a client that sends those has a bug we should name, not guess around."""

from __future__ import annotations

from rest_framework import serializers

from gad_project.api.params import ANIO_MAX, ANIO_MIN


class NumeroEstricto(serializers.FloatField):
    default_error_messages = {"invalid": "Debe ser un número (no un texto ni un booleano)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class EnteroEstricto(serializers.IntegerField):
    default_error_messages = {"invalid": "Debe ser un número entero (no un texto ni un booleano)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextoEstricto(serializers.CharField):
    default_error_messages = {"invalid": "Debe ser un texto."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FechaAcotada(serializers.DateTimeField):
    """ISO 8601 with zone, between 2000 and 2100: a year like 1365 is a client's bug (and would be
    echoed back with the zone's local mean time offset)."""

    default_error_messages = {"fuera_de_rango": f"La fecha debe estar entre el año {ANIO_MIN} y el {ANIO_MAX}."}

    def to_internal_value(self, value):
        fecha = super().to_internal_value(value)
        if not ANIO_MIN <= fecha.year <= ANIO_MAX:
            self.fail("fuera_de_rango")
        return fecha
