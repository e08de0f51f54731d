from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from gad_project.api.permissions import EsEfectivo, EsMando
from mensajes import selectors, services
from mensajes.api.serializers import (
    BandejaSerializer,
    MensajeEntradaSerializer,
    MensajeSerializer,
    RespuestaSerializer,
    TextoSerializer,
)


class MensajeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Messages from command, newest first, each with every recipient's delivery, read and
    acknowledgement times and their replies (a commander sees their unidad's recipients). `POST`
    writes one; an urgent message asks each recipient for an explicit acknowledgement and is
    re-sent through the bot until they give it (MENSAJE_URGENTE_REENVIO_*)."""

    serializer_class = MensajeSerializer
    permission_classes = [EsMando]

    def get_queryset(self):
        return selectors.mensajes_visibles(usuario=self.request.user).order_by("-id")

    @extend_schema(request=MensajeEntradaSerializer, responses={201: MensajeSerializer})
    def create(self, request):
        entrada = MensajeEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        mensaje = services.mensaje_enviar(
            usuario=request.user,
            texto=entrada.validated_data["texto"],
            urgente=entrada.validated_data["urgente"],
            para=entrada.destinatarios(),
        )
        return Response(MensajeSerializer(self.get_queryset().get(pk=mensaje.pk)).data, status=status.HTTP_201_CREATED)


class BandejaView(APIView):
    """`GET /api/v1/mis-mensajes/`: the signed-in efectivo's messages, newest first."""

    permission_classes = [EsEfectivo]

    @extend_schema(responses={200: BandejaSerializer(many=True)})
    def get(self, request):
        return Response(BandejaSerializer(selectors.bandeja(usuario=request.user)[:100], many=True).data)


class EntregaMarcarView(APIView):
    """`POST /api/v1/mis-mensajes/{id}/{recibido|leido|confirmado}/`: the recipient's receipt
    (idempotent: the first time is kept). `confirmado` is the acknowledgement an urgent message
    asks for."""

    permission_classes = [EsEfectivo]
    paso = "recibido"

    @extend_schema(request=None, responses={200: BandejaSerializer})
    def post(self, request, mensaje_id: int):
        services.entrega_marcar(usuario=request.user, mensaje_id=mensaje_id, paso=self.paso)
        return Response(BandejaSerializer(selectors.bandeja(usuario=request.user).get(mensaje_id=mensaje_id)).data)


class ResponderView(APIView):
    """`POST /api/v1/mis-mensajes/{id}/responder/ {"texto"}`: a text reply to the sender."""

    permission_classes = [EsEfectivo]

    @extend_schema(request=TextoSerializer, responses={201: RespuestaSerializer})
    def post(self, request, mensaje_id: int):
        entrada = TextoSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        respuesta = services.mensaje_responder(
            usuario=request.user, mensaje_id=mensaje_id, texto=entrada.validated_data["texto"]
        )
        return Response(RespuestaSerializer(respuesta).data, status=status.HTTP_201_CREATED)
