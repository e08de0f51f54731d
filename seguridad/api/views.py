from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gad_project.api.params import param_int
from seguridad import selectors, services
from seguridad.api.filtros import SinReporteFiltro, SosFiltro
from seguridad.api.serializers import (
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
            fuente=FuenteSos.API,
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
        sos = services.sos_resolver(sos_id=sos_id, usuario=request.user, nota=entrada.validated_data["nota"])
        return Response(SosSerializer(self._sos(sos.pk)).data)


class SinReporteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Efectivos in service who stopped reporting (`?abiertos=true`: silences still going on),
    newest first; raised and closed by the system every minute."""

    serializer_class = SinReporteSerializer
    filterset_class = SinReporteFiltro

    def get_queryset(self):
        return selectors.sin_reporte_visibles(usuario=self.request.user).select_related("efectivo")
