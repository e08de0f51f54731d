from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gad_project.api.permissions import EsMando
from gad_project.qr import qr_svg
from telegram_bot import services


class CodigoEntradaSerializer(serializers.Serializer):
    efectivo = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Sin efectivo: vincula la cuenta de quien lo pide (avisos de escalamiento).",
    )


class CodigoSalidaSerializer(serializers.Serializer):
    codigo = serializers.CharField()
    enlace = serializers.CharField(allow_null=True)
    vence_en = serializers.DateTimeField()
    qr_svg = serializers.CharField(
        allow_null=True, help_text="El enlace como código QR (SVG) para escanear con el teléfono; null sin enlace."
    )


class CodigoVinculacionView(APIView):
    """A single-use, short-lived code that links an efectivo's Telegram account: give the efectivo
    the link (or `/start <codigo>`). Earlier unused codes for the same efectivo stop working.
    Without `efectivo`, the code links the caller's own account (a commander's or admin's, for
    escalated alerts)."""

    permission_classes = [EsMando]

    @extend_schema(request=CodigoEntradaSerializer, responses={201: CodigoSalidaSerializer})
    def post(self, request):
        entrada = CodigoEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        nuevo = services.codigo_generar(efectivo_id=entrada.validated_data.get("efectivo"), creado_por=request.user)
        return Response(
            {
                "codigo": nuevo.codigo,
                "enlace": nuevo.enlace,
                "vence_en": nuevo.vence_en,
                "qr_svg": qr_svg(nuevo.enlace) if nuevo.enlace else None,
            },
            status=status.HTTP_201_CREATED,
        )
