from __future__ import annotations

import re

from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon
from django.utils import timezone
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from efectivos.models import Efectivo, Unidad, Usuario
from gad_project.api.campos import EnteroEstricto
from gad_project.exceptions import EntradaInvalida
from geocercas import formatos
from geocercas.models import Alerta, AlertaNota, Geocerca, TipoGeocerca
from tareas.models import Tarea


class HoraLocal(serializers.TimeField):
    """A time of day in the agency's zone. A time with an offset ("18:00+05:00", "18:00Z") names
    another zone: refused, not silently stored without it (DRF drops the offset)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and re.search(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$", value.strip()):
            raise serializers.ValidationError(
                "Indique la hora local de la agencia (America/Argentina/Buenos_Aires), sin zona horaria: p. ej. 18:00."
            )
        return super().to_internal_value(value)


class SilenciarSerializer(serializers.Serializer):
    minutos = EnteroEstricto(
        min_value=0, help_text="Minutos de silencio (0 lo levanta); máximo GEOCERCA_SILENCIO_MAX_MIN."
    )
    motivo = serializers.CharField(max_length=200, required=False, allow_blank=True)


class GeocercaSerializer(GeoFeatureModelSerializer):
    """A fence as a GeoJSON Feature. A corridor (`tipo` corredor) is written with its route as the
    geometry (a LineString) and `ancho_m`; it is read back with the area it covers as the geometry
    and the route in `ruta`."""

    unidades = serializers.PrimaryKeyRelatedField(many=True, queryset=Unidad.objects.all(), required=False)
    efectivos = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Efectivo.objects.all(),
        required=False,
        help_text="Si se indican, se aplica solo a estos efectivos.",
    )
    notificar_a = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Usuario.objects.all(),
        required=False,
        help_text="Mandos (usuarios) que reciben sus alertas escaladas por Telegram; vacío: los habituales.",
    )
    silenciada_por = serializers.StringRelatedField(allow_null=True)  # type: ignore[var-annotated]
    tarea = serializers.PrimaryKeyRelatedField(
        queryset=Tarea.objects.all(),
        required=False,
        allow_null=True,
        help_text="Si se indica, se aplica solo a los asignados a esta tarea mientras lo estén.",
    )
    ruta = serializers.SerializerMethodField()
    horario_desde = HoraLocal(required=False, allow_null=True)
    horario_hasta = HoraLocal(required=False, allow_null=True)
    horario_dias = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        required=False,
        max_length=7,
        help_text="Días en que rige (1 = lunes … 7 = domingo); vacío: todos.",
    )

    class Meta:
        model = Geocerca
        geo_field = "geom"
        fields = (
            "id",
            "nombre",
            "descripcion",
            "tipo",
            "activa",
            "unidades",
            "efectivos",
            "tarea",
            "severidad",
            "histeresis_m",
            "permanencia_min_s",
            "ancho_m",
            "ruta",
            "horario_dias",
            "horario_desde",
            "horario_hasta",
            "vigente_ahora",
            "vigencia_cambia_en",
            "cruce_max_s",
            "confirmar_lecturas",
            "entrada_min_s",
            "escalar",
            "notificar_a",
            "silenciada_hasta",
            "silenciada_por",
            "silencio_motivo",
            "version",
            "creada_en",
            "actualizada_en",
        )
        read_only_fields = ("version", "creada_en", "actualizada_en", "silenciada_hasta", "silencio_motivo")
        extra_kwargs = {
            "histeresis_m": {"min_value": 0, "max_value": 5000},
            "ancho_m": {"min_value": 5, "max_value": 5000},
        }

    vigente_ahora = serializers.SerializerMethodField(
        help_text="Si rige en este momento: activa y dentro de su horario (si tiene)."
    )
    vigencia_cambia_en = serializers.SerializerMethodField(
        help_text="Cuándo empieza o deja de regir por su horario (hora local); null si no cambia."
    )

    def get_vigente_ahora(self, obj: Geocerca) -> bool:
        return obj.vigente_en(timezone.now())

    def get_vigencia_cambia_en(self, obj: Geocerca) -> str | None:
        cambio = obj.vigencia_cambia_en(timezone.now())
        return None if cambio is None else cambio.isoformat()

    def get_ruta(self, obj: Geocerca) -> dict | None:
        """A corridor's route (GeoJSON LineString); null for other fences."""
        return {"type": "LineString", "coordinates": [list(c) for c in obj.ruta.coords]} if obj.ruta else None

    def validate_horario_dias(self, dias: list[int]) -> list[int]:
        if len(set(dias)) != len(dias):
            raise serializers.ValidationError("Hay días repetidos.")
        return sorted(dias)

    def validate(self, attrs: dict) -> dict:
        actual = self.instance
        tipo = attrs.get("tipo", actual.tipo if actual else None)
        geom = attrs.get("geom")
        if tipo == TipoGeocerca.CORREDOR:
            if geom is not None:
                if not isinstance(geom, LineString):
                    raise serializers.ValidationError(
                        {"geom": ["Un corredor se define por su ruta: una línea (LineString)."]}
                    )
                attrs["ruta"] = attrs.pop("geom")
            elif actual is None or actual.ruta is None:
                raise serializers.ValidationError({"geom": ["Falta la ruta del corredor (una LineString)."]})
            if attrs.get("ancho_m", actual.ancho_m if actual else None) is None:
                raise serializers.ValidationError({"ancho_m": ["Un corredor necesita su ancho en metros."]})
        else:
            if isinstance(geom, LineString):
                raise serializers.ValidationError({"geom": ["Solo un corredor se define por una línea."]})
            if geom is None and actual is None:
                raise serializers.ValidationError({"geom": ["Falta la geometría."]})
            attrs["ancho_m"] = None
        desde = attrs.get("horario_desde", actual.horario_desde if actual else None)
        hasta = attrs.get("horario_hasta", actual.horario_hasta if actual else None)
        if (desde is None) != (hasta is None):
            raise serializers.ValidationError({"horario_hasta": ["Indique las dos horas del horario, o ninguna."]})
        if desde is not None and desde == hasta:
            raise serializers.ValidationError({"horario_hasta": ["Las horas de inicio y fin deben ser distintas."]})
        return attrs

    def to_internal_value(self, data):
        # rest_framework_gis reads the body as a mapping before any validation runs.
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Se esperaba un objeto JSON (un Feature GeoJSON)."]}
            )
        if "properties" in data and not isinstance(data["properties"], dict):
            raise serializers.ValidationError({"properties": ["Debe ser un objeto JSON."]})
        try:
            formatos.crs_validar(data)
        except EntradaInvalida as exc:
            raise serializers.ValidationError({"geom": [exc.mensaje]}) from exc
        if isinstance(data.get("geometry"), dict):  # WGS 84 declared: nothing for GDAL to resolve
            data = {**data, "geometry": {k: v for k, v in data["geometry"].items() if k.lower() != "crs"}}
        return super().to_internal_value(data)

    def validate_geom(self, geom: GEOSGeometry) -> MultiPolygon | LineString:
        # One set of rules for the API, the admin and file imports (geocercas.formatos).
        try:
            return formatos.geometria_validar(geom)
        except EntradaInvalida as exc:
            raise serializers.ValidationError(exc.mensaje) from exc


class AlertaNotaSerializer(serializers.ModelSerializer):
    usuario = serializers.SerializerMethodField()

    class Meta:
        model = AlertaNota
        fields = ("estado", "usuario", "nota", "en")
        read_only_fields = fields

    def get_usuario(self, obj: AlertaNota) -> str:
        return obj.usuario.get_full_name() or obj.usuario.get_username()


class AlertaSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()
    geocerca_nombre = serializers.CharField(source="geocerca.nombre", read_only=True)
    lat = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()
    reconocida_por = serializers.SerializerMethodField()
    atendida_por = serializers.SerializerMethodField()
    resuelta_por = serializers.SerializerMethodField()
    historial = AlertaNotaSerializer(source="notas", many=True, read_only=True)

    class Meta:
        model = Alerta
        fields = (
            "id",
            "tipo",
            "severidad",
            "efectivo",
            "efectivo_nombre",
            "geocerca",
            "geocerca_nombre",
            "posicion",
            "lat",
            "lon",
            "lugar",
            "ocurrida_en",
            "ultima_en",
            "repeticiones",
            "cruce",
            "silenciada",
            "creada_en",
            "estado",
            "reconocida_por",
            "reconocida_en",
            "atendida_por",
            "atendida_en",
            "resuelta_por",
            "resuelta_en",
            "escalada_en",
            "historial",
        )
        read_only_fields = fields

    def get_efectivo_nombre(self, obj: Alerta) -> str:
        return f"{obj.efectivo.apellido}, {obj.efectivo.nombre}"

    def get_reconocida_por(self, obj: Alerta) -> str | None:
        """Who acknowledged it (null while pending)."""
        return str(obj.reconocida_por) if obj.reconocida_por else None

    def get_atendida_por(self, obj: Alerta) -> str | None:
        return str(obj.atendida_por) if obj.atendida_por else None

    def get_resuelta_por(self, obj: Alerta) -> str | None:
        return str(obj.resuelta_por) if obj.resuelta_por else None

    def get_lat(self, obj: Alerta) -> float | None:
        return obj.punto.y if obj.punto else None

    def get_lon(self, obj: Alerta) -> float | None:
        return obj.punto.x if obj.punto else None


class NotaSerializer(serializers.Serializer):
    nota = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, trim_whitespace=True, help_text="Opcional."
    )


class ReconocerVariasSerializer(serializers.Serializer):
    hasta_id = EnteroEstricto(min_value=1, help_text="La alerta más nueva a la vista: las posteriores no se reconocen.")
    ids = serializers.ListField(
        child=EnteroEstricto(min_value=1), required=False, max_length=1000, help_text="Solo estas (opcional)."
    )


class ReconocidasSerializer(serializers.Serializer):
    reconocidas = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())
