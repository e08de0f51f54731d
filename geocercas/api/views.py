from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gad_project.api.pagination import Paginacion, PaginacionGeoJson
from gad_project.api.params import param_int
from gad_project.api.permissions import EsMando, LecturaAutenticadaEscrituraMando
from gad_project.exceptions import NoPermitido
from geocercas import selectors, services
from geocercas.api.filtros import AlertaFiltro, GeocercaFiltro
from geocercas.api.serializers import (
    AlertaSerializer,
    GeocercaSerializer,
    NotaSerializer,
    ReconocerVariasSerializer,
    ReconocidasSerializer,
    SilenciarSerializer,
)
from geocercas.models import AlertaNota, Geocerca


class GeocercaViewSet(viewsets.ModelViewSet):
    """Geofences as GeoJSON. Anyone signed in reads those that apply to them; commanders and
    admins write (a commander's fences are scoped to their own unidad)."""

    serializer_class = GeocercaSerializer
    pagination_class = PaginacionGeoJson
    permission_classes = [LecturaAutenticadaEscrituraMando]
    filterset_class = GeocercaFiltro

    def get_queryset(self):
        return (
            selectors.geocercas_visibles(usuario=self.request.user)
            .prefetch_related("unidades", "efectivos")
            .order_by("id")
        )

    def perform_create(self, serializer):
        datos = dict(serializer.validated_data)
        unidades = [u.pk for u in datos.pop("unidades", [])]
        efectivos = [e.pk for e in datos.pop("efectivos", [])]
        notificar_a = [u.pk for u in datos.pop("notificar_a", [])]
        serializer.instance = services.geocerca_guardar(
            geocerca=Geocerca(**datos),
            unidades=unidades,
            efectivos=efectivos,
            notificar_a=notificar_a,
            usuario=self.request.user,
        )

    def perform_update(self, serializer):
        geocerca = serializer.instance
        if not selectors.geocerca_editable(usuario=self.request.user, geocerca=geocerca):
            raise NoPermitido("Solo puede modificar geocercas de su propia unidad.")  # before any field is set
        datos = dict(serializer.validated_data)
        unidades = [u.pk for u in datos.pop("unidades")] if "unidades" in datos else None
        efectivos = [e.pk for e in datos.pop("efectivos")] if "efectivos" in datos else None
        notificar_a = [u.pk for u in datos.pop("notificar_a")] if "notificar_a" in datos else None
        for campo, valor in datos.items():
            setattr(geocerca, campo, valor)
        serializer.instance = services.geocerca_guardar(
            geocerca=geocerca,
            unidades=unidades,
            efectivos=efectivos,
            notificar_a=notificar_a,
            usuario=self.request.user,
        )

    @extend_schema(request=SilenciarSerializer, responses=GeocercaSerializer)
    @action(detail=True, methods=["post"])
    def silenciar(self, request, pk=None):
        """Silence the fence for `minutos` (0 lifts it), saying why: its alerts are recorded and
        listed without sound, Telegram or escalation; every commander who sees it is told."""
        entrada = SilenciarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        geocerca = services.geocerca_silenciar(
            geocerca=self.get_object(),
            usuario=request.user,
            minutos=entrada.validated_data["minutos"],
            motivo=entrada.validated_data.get("motivo", ""),
        )
        return Response(GeocercaSerializer(geocerca, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance):
        services.geocerca_eliminar(geocerca=instance, usuario=self.request.user)


class AlertaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Geofence alerts the caller may see, newest first. `desde_id` returns only newer ones."""

    serializer_class = AlertaSerializer
    pagination_class = Paginacion
    filterset_class = AlertaFiltro

    def get_queryset(self):
        return (
            selectors.alertas_visibles(usuario=self.request.user)
            .select_related("efectivo", "geocerca", "reconocida_por", "atendida_por", "resuelta_por")
            .prefetch_related(Prefetch("notas", queryset=AlertaNota.objects.select_related("usuario")))
        )

    def _accion(self, request, pk, accion: str) -> Response:
        alerta_id = param_int({"id": pk}, "id", minimo=1, maximo=2**62, requerido=True)
        entrada = NotaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        alerta = services.alerta_cambiar_estado(
            alerta_id=alerta_id, usuario=request.user, accion=accion, nota=entrada.validated_data.get("nota", "")
        )
        alerta = self.get_queryset().get(pk=alerta.pk)
        return Response(AlertaSerializer(alerta).data, status=status.HTTP_200_OK)

    @extend_schema(request=NotaSerializer, responses={200: AlertaSerializer})
    @action(detail=True, methods=["post"], permission_classes=[EsMando])
    def reconocer(self, request, pk=None):
        """pendiente → reconocida."""
        return self._accion(request, pk, "reconocer")

    @extend_schema(request=NotaSerializer, responses={200: AlertaSerializer})
    @action(detail=True, methods=["post"], permission_classes=[EsMando])
    def atender(self, request, pk=None):
        """pendiente or reconocida → en atención (someone is on it)."""
        return self._accion(request, pk, "atender")

    @extend_schema(request=NotaSerializer, responses={200: AlertaSerializer})
    @action(detail=True, methods=["post"], permission_classes=[EsMando])
    def resolver(self, request, pk=None):
        """Closes the alert: the next transition of its kind raises a new one."""
        return self._accion(request, pk, "resolver")

    @extend_schema(
        operation_id="alertas_reconocer_varias",
        request=ReconocerVariasSerializer,
        responses={200: ReconocidasSerializer},
    )
    @action(detail=False, methods=["post"], url_path="reconocer", permission_classes=[EsMando])
    def reconocer_varias(self, request):
        """Acknowledge every pending alert up to `hasta_id` (the newest on screen), or only `ids`."""
        entrada = ReconocerVariasSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        ids = services.alertas_reconocer(usuario=request.user, hasta_id=d["hasta_id"], ids=d.get("ids"))
        return Response({"reconocidas": len(ids), "ids": ids})
