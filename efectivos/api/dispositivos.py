"""An efectivo's tracker devices, from the commander's panel: list, add (with the QR that
configures the phone, shown once), revoke, ask an OwnTracks phone for its position."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from efectivos import aprovisionamiento, selectors, services
from efectivos.alcance import exigir_mando_en
from efectivos.models import Dispositivo, TipoDispositivo
from gad_project.api.permissions import EsMando
from gad_project.exceptions import NoEncontrado
from gad_project.qr import qr_svg

RUTAS = {TipoDispositivo.TRACCAR: "/ingreso/osmand/", TipoDispositivo.OWNTRACKS: "/ingreso/owntracks/"}


class DispositivoSerializer(serializers.ModelSerializer[Dispositivo]):
    estado = serializers.SerializerMethodField(help_text="en_contacto, sin_contacto, nunca o revocado")
    bateria_baja = serializers.SerializerMethodField()

    class Meta:
        model = Dispositivo
        fields = (
            "id",
            "tipo",
            "etiqueta",
            "usuario",
            "creado_en",
            "revocado_en",
            "ultimo_contacto_en",
            "ultima_lectura_en",
            "bateria_pct",
            "cargando",
            "ultimo_rechazo",
            "ultimo_rechazo_en",
            "ubicacion_pedida_en",
            "ubicacion_pedida_enviada_en",
            "estado",
            "bateria_baja",
        )
        read_only_fields = fields

    def get_estado(self, d: Dispositivo) -> str:
        return estado_de(d)

    def get_bateria_baja(self, d: Dispositivo) -> bool:
        return d.bateria_pct is not None and d.bateria_pct < settings.DISPOSITIVO_BATERIA_BAJA_PCT


def estado_de(d: Dispositivo) -> str:
    if d.revocado_en is not None:
        return "revocado"
    if d.ultimo_contacto_en is None:
        return "nunca"
    reciente = timezone.now() - d.ultimo_contacto_en < timedelta(minutes=settings.SIN_REPORTE_MIN)
    return "en_contacto" if reciente else "sin_contacto"


class DispositivoEntradaSerializer(serializers.Serializer[Any]):
    tipo = serializers.ChoiceField(choices=TipoDispositivo.choices)
    etiqueta = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class DispositivoNuevoSerializer(serializers.Serializer[Any]):
    dispositivo = DispositivoSerializer()
    enlace = serializers.CharField(help_text="Lo que el teléfono abre para configurarse (se muestra una sola vez).")
    qr_svg = serializers.CharField()
    config = serializers.JSONField(help_text="Los mismos valores, para configurarlo a mano o por MDM.")


def _url_publica(request: Request, ruta: str) -> str:
    return f"{settings.GAD_URL_PUBLICA}{ruta}" if settings.GAD_URL_PUBLICA else request.build_absolute_uri(ruta)


class DispositivosView(APIView):
    """`GET|POST /api/v1/efectivos/{id}/dispositivos/` (commanders of the efectivo's unidad, admins)."""

    permission_classes = [EsMando]

    @extend_schema(responses={200: DispositivoSerializer(many=True)})
    def get(self, request: Request, efectivo_id: int) -> Response:
        efectivo = selectors.efectivo_visible(usuario=request.user, efectivo_id=efectivo_id)
        return Response(DispositivoSerializer(efectivo.dispositivos.order_by("-creado_en"), many=True).data)

    @extend_schema(request=DispositivoEntradaSerializer, responses={201: DispositivoNuevoSerializer})
    def post(self, request: Request, efectivo_id: int) -> Response:
        efectivo = selectors.efectivo_visible(usuario=request.user, efectivo_id=efectivo_id)
        exigir_mando_en(request.user, efectivo.unidad_id, "Solo el mando de su unidad da de alta sus equipos.")
        entrada = DispositivoEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        tipo = entrada.validated_data["tipo"]
        dispositivo, secreto = services.dispositivo_crear(
            efectivo=efectivo,
            tipo=tipo,
            etiqueta=entrada.validated_data["etiqueta"],
            creado_por=request.user,  # type: ignore[arg-type]  # EsMando: a signed-in user
        )
        url = _url_publica(request, RUTAS[tipo])
        p = aprovisionamiento.perfil()
        if tipo == TipoDispositivo.TRACCAR:
            config = aprovisionamiento.traccar_config(url=url, secreto=secreto, p=p)
            enlace = aprovisionamiento.traccar_enlace(url=url, secreto=secreto, p=p)
        else:
            assert dispositivo.usuario is not None
            tid = (efectivo.apellido[:1] + efectivo.nombre[:1]) or "GA"
            config = aprovisionamiento.owntracks_config(
                url=url, usuario=dispositivo.usuario, clave=secreto, tid=tid, p=p
            )
            enlace = aprovisionamiento.owntracks_enlace(
                url=url, usuario=dispositivo.usuario, clave=secreto, tid=tid, p=p
            )
        return Response(
            {
                "dispositivo": DispositivoSerializer(dispositivo).data,
                "enlace": enlace,
                "qr_svg": qr_svg(enlace),
                "config": config,
            },
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )


def _dispositivo_mandado(request: Request, dispositivo_id: int) -> Dispositivo:
    dispositivo = Dispositivo.objects.select_related("efectivo").filter(pk=dispositivo_id).first()
    if (
        dispositivo is None
        or not selectors.efectivos_visibles(usuario=request.user).filter(pk=dispositivo.efectivo_id).exists()
    ):
        raise NoEncontrado("Dispositivo inexistente o fuera de su alcance.")
    exigir_mando_en(request.user, dispositivo.efectivo.unidad_id, "Solo el mando de su unidad gestiona sus equipos.")
    return dispositivo


class DispositivoRevocarView(APIView):
    """`POST /api/v1/dispositivos/{id}/revocar/`: its next message is refused, in every process."""

    permission_classes = [EsMando]

    @extend_schema(request=None, responses={200: DispositivoSerializer})
    def post(self, request: Request, dispositivo_id: int) -> Response:
        dispositivo = services.dispositivo_revocar(dispositivo=_dispositivo_mandado(request, dispositivo_id))
        return Response(DispositivoSerializer(dispositivo).data)


class DispositivoUbicacionView(APIView):
    """`POST /api/v1/dispositivos/{id}/pedir-ubicacion/` (OwnTracks): the next answer to the phone
    carries `reportLocation`; `ubicacion_pedida_enviada_en` says when it went out."""

    permission_classes = [EsMando]

    @extend_schema(request=None, responses={200: DispositivoSerializer})
    def post(self, request: Request, dispositivo_id: int) -> Response:
        dispositivo = services.dispositivo_ubicacion_pedir(dispositivo=_dispositivo_mandado(request, dispositivo_id))
        return Response(DispositivoSerializer(dispositivo).data)
