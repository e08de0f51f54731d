from __future__ import annotations

from typing import Any

from rest_framework import serializers

from gad_project.api.campos import EnteroEstricto, NumeroEstricto, TextoEstricto
from seguridad.models import ControlBienestar, FuenteSos, SinReporte, Sos


class SosEntradaSerializer(serializers.Serializer):
    """Where the efectivo is; leave both out to use their last fix (or send it later)."""

    lat = NumeroEstricto(required=False, min_value=-90, max_value=90)
    lon = NumeroEstricto(required=False, min_value=-180, max_value=180)
    precision_m = NumeroEstricto(required=False, allow_null=True, min_value=0, max_value=100_000)
    id_cliente = serializers.UUIDField(
        required=False, help_text="Del cliente: el mismo SOS reenviado (una cola sin señal) no abre otro."
    )
    fuente = serializers.ChoiceField(
        choices=[(FuenteSos.API, "API"), (FuenteSos.CAMPO, "App de campo")], default=FuenteSos.API, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lat": ["Envíe lat y lon juntos, o ninguno."]})
        return attrs


class SosResolverSerializer(serializers.Serializer):
    nota = TextoEstricto(required=False, allow_blank=True, max_length=2000, default="")
    tarea = serializers.ChoiceField(
        choices=[
            ("mantener", "Mantener la emergencia"),
            ("finalizar", "Finalizarla: la ayuda llegó"),
            ("cancelar", "Cancelarla: falsa alarma"),
        ],
        default="mantener",
        required=False,
        help_text="Qué pasa con su emergencia; finalizar o cancelar libera al refuerzo.",
    )


class SosSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()
    unidad = serializers.IntegerField(source="efectivo.unidad_id", read_only=True)
    lat = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()
    lugar = serializers.SerializerMethodField()
    resuelto_por = serializers.StringRelatedField(allow_null=True)  # type: ignore[var-annotated]

    class Meta:
        model = Sos
        fields = (
            "id",
            "estado",
            "efectivo",
            "efectivo_nombre",
            "unidad",
            "fuente",
            "lat",
            "lon",
            "lugar",
            "precision_m",
            "tarea",
            "creado_en",
            "resuelto_en",
            "resuelto_por",
            "nota",
            "refuerzos",
        )
        read_only_fields = fields

    refuerzos = serializers.SerializerMethodField()

    def get_lugar(self, sos: Sos) -> str | None:
        """Where it is, named from the installed street extract ("Avenida de Mayo y Bolívar") when
        its point was written; null without one or far from any named street."""
        return sos.lugar or None

    def get_refuerzos(self, sos: Sos) -> list[dict[str, Any]]:
        """Who is on their way: the emergency task's assignments still standing."""
        if sos.tarea_id is None:
            return []
        from gad_project import rls
        from tareas.models import Asignacion, EstadoAsignacion

        # Whoever may see this SOS (the officer in danger too) sees who is coming, though row-level
        # security hides an officer's colleagues from them otherwise: read as the system.
        with rls.usar(rls.SISTEMA):
            filas = list(
                Asignacion.objects.filter(
                    tarea_id=sos.tarea_id, estado__in=(EstadoAsignacion.PENDIENTE, EstadoAsignacion.ACEPTADA)
                )
                .select_related("efectivo")
                .order_by("distancia_m")
            )
        return [
            {
                "efectivo": a.efectivo_id,
                "nombre": f"{a.efectivo.apellido}, {a.efectivo.nombre}",
                "estado": a.estado,
                "distancia_m": a.distancia_m,
            }
            for a in filas
        ]

    def get_efectivo_nombre(self, sos: Sos) -> str:
        return f"{sos.efectivo.apellido}, {sos.efectivo.nombre}"

    def get_lat(self, sos: Sos) -> float | None:
        return sos.punto.y if sos.punto else None

    def get_lon(self, sos: Sos) -> float | None:
        return sos.punto.x if sos.punto else None


class SinReporteSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()
    unidad = serializers.IntegerField(source="efectivo.unidad_id", read_only=True)
    lat = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()

    class Meta:
        model = SinReporte
        fields = (
            "id",
            "efectivo",
            "efectivo_nombre",
            "unidad",
            "ultima_posicion_en",
            "lat",
            "lon",
            "contacto_en",
            "creado_en",
            "cerrado_en",
        )
        read_only_fields = fields

    def get_efectivo_nombre(self, aviso: SinReporte) -> str:
        return f"{aviso.efectivo.apellido}, {aviso.efectivo.nombre}"

    def get_lat(self, aviso: SinReporte) -> float | None:
        return aviso.punto.y if aviso.punto else None

    def get_lon(self, aviso: SinReporte) -> float | None:
        return aviso.punto.x if aviso.punto else None


class BienestarEntradaSerializer(serializers.Serializer):
    """Start a check-in cadence: every `intervalo_min` minutes (1 to 1440), for one `efectivo`,
    everyone assigned to a `tarea`, or everyone in service in a `unidad`."""

    intervalo_min = NumeroEstricto()
    efectivo = EnteroEstricto(required=False, min_value=1, max_value=2**62)
    tarea = EnteroEstricto(required=False, min_value=1, max_value=2**62)
    unidad = EnteroEstricto(required=False, min_value=1, max_value=2**62)


class BienestarSerializer(serializers.ModelSerializer):
    efectivo_nombre = serializers.SerializerMethodField()
    unidad = serializers.IntegerField(source="efectivo.unidad_id", read_only=True)
    atrasado = serializers.SerializerMethodField(help_text="Pedido y vencido, a punto de contarse como fallo.")

    class Meta:
        model = ControlBienestar
        fields = (
            "id",
            "efectivo",
            "efectivo_nombre",
            "unidad",
            "tarea",
            "intervalo_min",
            "estado",
            "atrasado",
            "proximo_en",
            "pedido_en",
            "vence_en",
            "ultima_respuesta_en",
            "ultima_via",
            "fallos_seguidos",
            "fallos",
            "respuestas",
            "sos",
            "creado_en",
            "terminado_en",
        )
        read_only_fields = fields

    def get_efectivo_nombre(self, c: ControlBienestar) -> str:
        return f"{c.efectivo.apellido}, {c.efectivo.nombre}"

    def get_atrasado(self, c: ControlBienestar) -> bool:
        from django.utils import timezone

        return c.vence_en is not None and c.vence_en <= timezone.now()
