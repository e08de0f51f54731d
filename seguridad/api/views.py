from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from gad_project.api.params import param_int
from gad_project.api.permissions import EsEfectivo, EsMando
from seguridad import selectors, services
from seguridad.api.filtros import SinReporteFiltro, SosFiltro
from seguridad.api.serializers import (
    BienestarEntradaSerializer,
    BienestarSerializer,
    SinReporteSerializer,
    SosEntradaSerializer,
    SosResolverSerializer,
    SosSerializer,
)
from seguridad.models import FuenteSos, Sos


class SosViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An efectivo's SOS. `POST` raises it (201; 200 when one is already active: the same SOS,
    with the location added if it lacked one) and dispatches the nearest backup at once; the
    list shows those the caller may see, newest first (`?estado=activo` for the open ones)."""

    serializer_class = SosSerializer
    filterset_class = SosFiltro

    def get_queryset(self):
        return selectors.sos_visibles(usuario=self.request.user).select_related("efectivo", "resuelto_por")

    def _sos(self, pk) -> Sos:
        return self.get_queryset().get(pk=pk)

    @extend_schema(request=SosEntradaSerializer, responses={201: SosSerializer, 200: SosSerializer})
    def create(self, request):
        entrada = SosEntradaSerializer(data=request.data or {})
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        sos, creado, _ = services.sos_activar(
            usuario=request.user,
            lat=d.get("lat"),
            lon=d.get("lon"),
            precision_m=d.get("precision_m"),
            fuente=d.get("fuente", FuenteSos.API),
            id_cliente=d.get("id_cliente"),
        )
        return Response(
            SosSerializer(self._sos(sos.pk)).data, status=status.HTTP_201_CREATED if creado else status.HTTP_200_OK
        )

    @extend_schema(request=SosResolverSerializer, responses={200: SosSerializer})
    @action(detail=True, methods=["post"])
    def resolver(self, request, pk=None):
        sos_id = param_int({"id": pk}, "id", minimo=1, maximo=2**62, requerido=True)
        entrada = SosResolverSerializer(data=request.data or {})
        entrada.is_valid(raise_exception=True)
        sos = services.sos_resolver(
            sos_id=sos_id,
            usuario=request.user,
            nota=entrada.validated_data["nota"],
            tarea=entrada.validated_data.get("tarea", "mantener"),
        )
        return Response(SosSerializer(self._sos(sos.pk)).data)


class SinReporteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Efectivos in service who stopped reporting (`?abiertos=true`: silences still going on),
    newest first; raised and closed by the system every minute."""

    serializer_class = SinReporteSerializer
    filterset_class = SinReporteFiltro

    def get_queryset(self):
        return selectors.sin_reporte_visibles(usuario=self.request.user).select_related("efectivo")


class BienestarViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Welfare check-in cadences (the map's board): running ones, those asked now first
    (`?todos=true` adds the ended ones). `POST` starts one for an efectivo, a task's efectivos or
    a unidad; `terminar` ends it."""

    serializer_class = BienestarSerializer
    permission_classes = [EsMando]

    def get_queryset(self):
        qs = selectors.controles_visibles(usuario=self.request.user)
        if self.action == "list" and self.request.query_params.get("todos") not in ("true", "1"):
            qs = qs.filter(terminado_en__isnull=True)
        return qs.order_by(F("vence_en").asc(nulls_last=True), "proximo_en", "id")

    @extend_schema(request=BienestarEntradaSerializer, responses={201: BienestarSerializer(many=True)})
    def create(self, request):
        entrada = BienestarEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        controles = services.bienestar_iniciar(
            usuario=request.user,
            intervalo_min=d["intervalo_min"],
            efectivo_id=d.get("efectivo"),
            tarea_id=d.get("tarea"),
            unidad_id=d.get("unidad"),
        )
        return Response(BienestarSerializer(controles, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: BienestarSerializer})
    @action(detail=True, methods=["post"])
    def terminar(self, request, pk=None):
        control_id = param_int({"id": pk}, "id", minimo=1, maximo=2**62, requerido=True)
        control = services.bienestar_terminar(usuario=request.user, control_id=control_id)
        return Response(BienestarSerializer(control).data)


class MiBienestarView(APIView):
    """`GET /api/v1/mi-bienestar/`: the signed-in efectivo's running cadence, as a list of at most
    one (empty: none). `POST`: "Estoy bien" (409 when no cadence is running)."""

    permission_classes = [EsEfectivo]

    @extend_schema(responses={200: BienestarSerializer(many=True)})
    def get(self, request):
        controles = selectors.controles_visibles(usuario=request.user).filter(terminado_en__isnull=True)[:1]
        return Response(BienestarSerializer(controles, many=True).data)

    @extend_schema(request=None, responses={200: BienestarSerializer})
    def post(self, request):
        control = services.bienestar_responder(usuario=request.user, via="campo")
        return Response(BienestarSerializer(control).data)
