from __future__ import annotations

from django.conf import settings
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
    bot = serializers.CharField(allow_null=True, help_text="El usuario del bot (@...), null si no está configurado.")
    aviso = serializers.CharField(
        allow_null=True,
        help_text="Por qué el código no basta en esta instalación (sin bot, o sin su usuario); null si basta.",
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
                **_bot(),
            },
            status=status.HTTP_201_CREATED,
        )


def _bot() -> dict[str, str | None]:
    """Which bot the code is for, and what is missing for it to work in this installation."""
    usuario = settings.TELEGRAM_BOT_USERNAME.lstrip("@") or None
    if not settings.TELEGRAM_BOT_TOKEN:
        aviso = (
            "Esta instalación no tiene bot de Telegram (falta TELEGRAM_BOT_TOKEN): el código no servirá "
            "hasta que un administrador lo configure y lo ponga en marcha."
        )
    elif usuario is None:
        aviso = "Falta TELEGRAM_BOT_USERNAME: sin él no hay enlace ni QR; envíe /start y el código al bot de la institución."
    else:
        aviso = None
    return {"bot": f"@{usuario}" if usuario else None, "aviso": aviso}
