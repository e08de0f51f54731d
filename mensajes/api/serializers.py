from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon
from rest_framework import serializers

from gad_project.api.campos import EnteroEstricto, NumeroEstricto, TextoEstricto
from geocercas import formatos
from mensajes.models import TEXTO_MAX, Entrega, Mensaje, Respuesta
from mensajes.services import RADIO_MAX_M, Destinatarios


class MensajeEntradaSerializer(serializers.Serializer):
    """A message and exactly one way to say who receives it: `efectivos` (ids), `unidad` (an id),
    `area` (a GeoJSON Polygon or MultiPolygon: those whose last fix is inside now), `lat` + `lon` +
    `radio_m` (those within that many metres now), or `todos` (everyone in the sender's scope)."""

    texto = TextoEstricto(allow_blank=True, trim_whitespace=False, max_length=TEXTO_MAX + 1000)
    urgente = serializers.BooleanField(default=False)
    efectivos = serializers.ListField(
        child=EnteroEstricto(min_value=1, max_value=2**62), required=False, max_length=5000
    )
    unidad = EnteroEstricto(required=False, min_value=1, max_value=2**62)
    area = serializers.JSONField(required=False, help_text="GeoJSON Polygon o MultiPolygon (WGS 84).")
    lat = NumeroEstricto(required=False, min_value=-90, max_value=90)
    lon = NumeroEstricto(required=False, min_value=-180, max_value=180)
    radio_m = NumeroEstricto(required=False, min_value=1, max_value=RADIO_MAX_M)
    todos = serializers.BooleanField(default=False)

    def validate_area(self, valor: Any) -> MultiPolygon:
        if not isinstance(valor, dict) or valor.get("type") not in ("Polygon", "MultiPolygon"):
            raise serializers.ValidationError("Debe ser un GeoJSON Polygon o MultiPolygon.")
        formatos.crs_validar(valor)
        try:
            geom = GEOSGeometry(json.dumps(valor), srid=4326)
        except (GEOSException, ValueError, TypeError) as exc:
            raise serializers.ValidationError("Geometría ilegible.") from exc
        area = formatos.geometria_validar(geom)
        if not isinstance(area, MultiPolygon):
            raise serializers.ValidationError("Debe ser un área (Polygon o MultiPolygon).")
        return area

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        circulo = [c for c in ("lat", "lon", "radio_m") if c in attrs]
        if circulo and len(circulo) != 3:
            raise serializers.ValidationError({"radio_m": ["Un radio necesita lat, lon y radio_m."]})
        formas = [bool(attrs.get("efectivos")), "unidad" in attrs, "area" in attrs, bool(circulo), attrs["todos"]]
        if sum(formas) != 1:
            raise serializers.ValidationError(
                {"destino": ["Indique un solo destino: efectivos, unidad, area, lat/lon/radio_m o todos."]}
            )
        return attrs

    def destinatarios(self) -> Destinatarios:
        d = self.validated_data
        return Destinatarios(
            efectivos=d.get("efectivos") or (),
            unidad_id=d.get("unidad"),
            area=d.get("area"),
            centro=(d["lat"], d["lon"]) if "radio_m" in d else None,
            radio_m=d.get("radio_m"),
            todos=d["todos"],
        )


class TextoSerializer(serializers.Serializer):
    texto = TextoEstricto(allow_blank=True, trim_whitespace=False, max_length=TEXTO_MAX + 1000)


def _nombre(efectivo) -> str:
    return f"{efectivo.apellido}, {efectivo.nombre}"


class EntregaSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()

    class Meta:
        model = Entrega
        fields = (
            "efectivo",
            "efectivo_nombre",
            "entregado_en",
            "entregado_por",
            "leido_en",
            "confirmado_en",
            "reenvios",
            "ultimo_reenvio_en",
        )
        read_only_fields = fields

    def get_efectivo_nombre(self, obj: Entrega) -> str:
        return _nombre(obj.efectivo)


class RespuestaSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()

    class Meta:
        model = Respuesta
        fields = ("id", "efectivo", "efectivo_nombre", "texto", "creada_en")
        read_only_fields = fields

    def get_efectivo_nombre(self, obj: Respuesta) -> str:
        return _nombre(obj.efectivo)


class MensajeSerializer(serializers.ModelSerializer):
    autor = serializers.SerializerMethodField()
    entregas = EntregaSerializer(many=True, read_only=True)
    respuestas = RespuestaSerializer(many=True, read_only=True)

    class Meta:
        model = Mensaje
        fields = ("id", "texto", "urgente", "destino", "unidad", "autor", "creado_en", "entregas", "respuestas")
        read_only_fields = fields

    def get_autor(self, obj: Mensaje) -> str:
        return obj.autor.get_full_name() or obj.autor.get_username()


class BandejaSerializer(serializers.ModelSerializer):
    """One message in an officer's inbox."""

    mensaje = serializers.IntegerField(source="mensaje_id", read_only=True)
    texto = serializers.CharField(source="mensaje.texto", read_only=True)
    urgente = serializers.BooleanField(source="mensaje.urgente", read_only=True)
    autor = serializers.SerializerMethodField()
    creado_en = serializers.DateTimeField(source="mensaje.creado_en", read_only=True)
    respuestas = serializers.SerializerMethodField()

    class Meta:
        model = Entrega
        fields = (
            "mensaje",
            "texto",
            "urgente",
            "autor",
            "creado_en",
            "entregado_en",
            "leido_en",
            "confirmado_en",
            "respuestas",
        )
        read_only_fields = fields

    def get_autor(self, obj: Entrega) -> str:
        autor = obj.mensaje.autor
        return autor.get_full_name() or autor.get_username()

    def get_respuestas(self, obj: Entrega) -> list[dict[str, str]]:
        return [{"texto": r.texto, "creada_en": r.creada_en.isoformat()} for r in obj.mensaje.respuestas.all()]
