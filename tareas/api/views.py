from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from efectivos.models import EstadoEfectivo
from efectivos.selectors import efectivos_visibles
from gad_project import bd
from gad_project.api.params import param_float, param_int, param_opcion
from gad_project.api.permissions import EsEfectivo, EsMando
from gad_project.exceptions import EntradaInvalida, NoEncontrado
from tareas import selectors, services
from tareas.api.filtros import TareaFiltro
from tareas.api.serializers import (
    AsignarSerializer,
    CercanoSerializer,
    EfectivoEstadisticasSerializer,
    EmergenciaSerializer,
    EstadisticaUnidadSerializer,
    LiberarSerializer,
    MotivoSerializer,
    ReasignarSerializer,
    TareaEntradaSerializer,
    TareaEventoSerializer,
    TareaSerializer,
)
from tareas.models import Tarea


class TareaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tasks the caller may see. Commanders create and dispatch within their unidad; an efectivo
    acts on the tasks assigned to them. Tasks are never deleted: they are cancelled."""

    serializer_class = TareaSerializer
    filterset_class = TareaFiltro

    def get_queryset(self):
        return (
            selectors.tareas_visibles(usuario=self.request.user)
            .select_related("unidad")
            .prefetch_related("asignaciones__efectivo")
            .order_by("-prioridad", "-creada_en")
        )

    def _tarea(self, pk) -> Tarea:
        tarea_id = param_int({"id": pk}, "id", minimo=1, maximo=2**62, requerido=True)
        tarea = selectors.tareas_visibles(usuario=self.request.user).filter(pk=tarea_id).first()
        if tarea is None:
            raise NoEncontrado("Tarea inexistente o fuera de su alcance.")
        return tarea

    def _respuesta(self, tarea: Tarea, estado=status.HTTP_200_OK) -> Response:
        return Response(TareaSerializer(self.get_queryset().get(pk=tarea.pk)).data, status=estado)

    @extend_schema(request=TareaEntradaSerializer, responses={201: TareaSerializer})
    def create(self, request):
        self.check_permissions_mando()
        entrada = TareaEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        datos = dict(entrada.validated_data)
        unidad_id = datos.pop("unidad", None) or request.user.unidad_id
        if unidad_id is None:
            raise EntradaInvalida("Indique la unidad.", detalle={"unidad": "Obligatoria para administradores."})
        tarea = services.tarea_crear(usuario=request.user, unidad_id=unidad_id, **datos)
        return self._respuesta(tarea, status.HTTP_201_CREATED)

    @extend_schema(request=TareaEntradaSerializer(partial=True), responses={200: TareaSerializer})
    def partial_update(self, request, pk=None):
        tarea = self._tarea(pk)
        entrada = TareaEntradaSerializer(data=request.data, partial=True)
        entrada.is_valid(raise_exception=True)
        datos = dict(entrada.validated_data)
        if "unidad" in datos:
            raise EntradaInvalida("La unidad de una tarea no se cambia.", detalle={"unidad": "no editable"})
        tarea = services.tarea_actualizar(tarea_id=tarea.pk, usuario=request.user, **datos)
        return self._respuesta(tarea)

    def check_permissions_mando(self) -> None:
        if not EsMando().has_permission(self.request, self):
            self.permission_denied(self.request, message=EsMando.message)

    @extend_schema(request=AsignarSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def asignar(self, request, pk=None):
        tarea = self._tarea(pk)
        entrada = AsignarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        services.tarea_asignar(
            tarea_id=tarea.pk,
            usuario=request.user,
            efectivos=d.get("efectivos", ()),
            cercanos=d.get("cercanos", 0),
            radio_m=d.get("radio_m"),
            especialidad=d.get("especialidad"),
        )
        return self._respuesta(tarea)

    def _responder(self, request, pk, acepta: bool):
        tarea = self._tarea(pk)
        entrada = MotivoSerializer(data=request.data or {})
        entrada.is_valid(raise_exception=True)
        tarea = services.asignacion_responder(
            tarea_id=tarea.pk, usuario=request.user, acepta=acepta, motivo=entrada.validated_data["motivo"]
        )
        return self._respuesta(tarea)

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def aceptar(self, request, pk=None):
        return self._responder(request, pk, True)

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def rechazar(self, request, pk=None):
        return self._responder(request, pk, False)

    def _transicion(self, request, pk, accion: str):
        tarea = self._tarea(pk)
        entrada = MotivoSerializer(data=request.data or {})
        entrada.is_valid(raise_exception=True)
        tarea = services.tarea_transicionar(
            tarea_id=tarea.pk, accion=accion, usuario=request.user, motivo=entrada.validated_data["motivo"]
        )
        return self._respuesta(tarea)

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def iniciar(self, request, pk=None):
        return self._transicion(request, pk, "iniciar")

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def pausar(self, request, pk=None):
        return self._transicion(request, pk, "pausar")

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def reanudar(self, request, pk=None):
        return self._transicion(request, pk, "reanudar")

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def finalizar(self, request, pk=None):
        return self._transicion(request, pk, "finalizar")

    @extend_schema(request=MotivoSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def cancelar(self, request, pk=None):
        return self._transicion(request, pk, "cancelar")

    @extend_schema(request=None, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def llegada(self, request, pk=None):
        """The assigned efectivo reached the task's place ("Llegué"). Recorded once, with the
        distance from their last position; a second call changes nothing."""
        tarea = self._tarea(pk)
        services.asignacion_llegar(tarea_id=tarea.pk, usuario=request.user)
        return self._respuesta(self._tarea(pk))

    @extend_schema(request=LiberarSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def liberar(self, request, pk=None):
        """Take one efectivo off the task (it then asks for one fewer); 409 for the last efectivo
        of an open emergency."""
        tarea = self._tarea(pk)
        entrada = LiberarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        services.asignacion_liberar(
            tarea_id=tarea.pk, efectivo_id=d["efectivo"], usuario=request.user, motivo=d["motivo"]
        )
        return self._respuesta(tarea)

    @extend_schema(request=ReasignarSerializer, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def reasignar(self, request, pk=None):
        """Replace one assignee by another available efectivo of the task's unidad, atomically."""
        tarea = self._tarea(pk)
        entrada = ReasignarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        services.tarea_reasignar(tarea_id=tarea.pk, de_efectivo=d["de"], a_efectivo=d["a"], usuario=request.user)
        return self._respuesta(tarea)

    @extend_schema(request=None, responses={200: TareaSerializer})
    @action(detail=True, methods=["post"])
    def buscar(self, request, pk=None):
        """Reopen a short-handed task's search: dispatch the nearest available now (409 while
        nobody is in range)."""
        tarea = self._tarea(pk)
        services.tarea_busqueda_reabrir(tarea_id=tarea.pk, usuario=request.user)
        return self._respuesta(tarea)

    @extend_schema(responses={200: TareaEventoSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def historial(self, request, pk=None):
        """Every change of the task, oldest first; paginated like every list."""
        tarea = self._tarea(pk)
        pagina = self.paginate_queryset(selectors.tarea_historial(tarea=tarea))
        return self.get_paginated_response(TareaEventoSerializer(pagina, many=True).data)

    @extend_schema(request=EmergenciaSerializer, responses={201: TareaSerializer})
    @action(detail=False, methods=["post"], permission_classes=[EsMando])
    def emergencia(self, request):
        entrada = EmergenciaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        d = entrada.validated_data
        tarea, _ = services.emergencia_crear(
            usuario=request.user, lat=d["lat"], lon=d["lon"], descripcion=d["descripcion"], k=d["efectivos"]
        )
        return self._respuesta(tarea, status.HTTP_201_CREATED)


class MisTareasView(APIView):
    permission_classes = [EsEfectivo]

    @extend_schema(responses={200: TareaSerializer(many=True)})
    def get(self, request):
        qs = selectors.mis_tareas(usuario=request.user).prefetch_related("asignaciones__efectivo")
        return Response(TareaSerializer(qs, many=True).data)


class CercanosView(APIView):
    """The nearest available efectivos to a point (commanders: within their unidad)."""

    permission_classes = [EsMando]

    @extend_schema(
        parameters=[
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("k", int),
            OpenApiParameter("radio_m", float, description="Metros; nunca más que DESPACHO_RADIO_MAX_M"),
            OpenApiParameter("estado", enum=[EstadoEfectivo.DISPONIBLE]),
            OpenApiParameter("especialidad", str),
        ],
        responses={200: CercanoSerializer(many=True)},
    )
    def get(self, request):
        cercanos = selectors.efectivos_cercanos(
            **cercanos_pedido(request.query_params), unidad_id=selectors.alcance_de_despacho(usuario=request.user)
        )
        return Response([selectors.cercano_datos(c) for c in cercanos])


def cercanos_pedido(p) -> dict[str, Any]:
    """The question's parameters (this view's and the lean path's, tareas.asgi), or a 400."""
    param_opcion(p, "estado", [EstadoEfectivo.DISPONIBLE])  # only available ones are dispatchable
    return {
        "lat": param_float(p, "lat", minimo=-90, maximo=90, requerido=True),
        "lon": param_float(p, "lon", minimo=-180, maximo=180, requerido=True),
        "k": param_int(p, "k", minimo=1, maximo=100, defecto=5),
        "radio_m": services.radio_de_despacho(param_float(p, "radio_m", minimo=1, maximo=500_000)),
        "especialidad": p.get("especialidad") or None,
    }


class EstadisticasUnidadesView(APIView):
    """Operational figures per unidad (materialized view, refreshed every minute)."""

    permission_classes = [EsMando]

    @extend_schema(responses={200: EstadisticaUnidadSerializer(many=True)})
    @bd.tolerante  # statistics tolerate the replica's lag
    def get(self, request):
        filas = selectors.estadisticas_unidades(usuario=request.user)
        return Response(
            [
                {
                    "unidad": f.unidad_id,
                    "codigo": f.codigo,
                    "nombre": f.nombre,
                    "efectivos": {
                        "disponibles": f.disponibles,
                        "en_tarea": f.en_tarea,
                        "fuera_servicio": f.fuera_servicio,
                        "no_disponibles": f.no_disponibles,
                    },
                    "tareas_abiertas_por_prioridad": f.abiertas_por_prioridad,
                    "respuesta_media_s": f.respuesta_media_s,
                    "calculada_en": f.calculada_en,
                }
                for f in filas
            ]
        )


class EfectivoEstadisticasView(APIView):
    """One efectivo's task figures over the last `dias` days (default 30): for their commanders,
    admins, and the efectivo themself."""

    @extend_schema(
        parameters=[OpenApiParameter("dias", int, description="1 a 366; por defecto 30")],
        responses={200: EfectivoEstadisticasSerializer},
    )
    @bd.tolerante
    def get(self, request, efectivo_id: int):
        if not efectivos_visibles(usuario=request.user).filter(pk=efectivo_id).exists():
            raise NoEncontrado("Efectivo inexistente o fuera de su alcance.")
        dias = param_int(request.query_params, "dias", minimo=1, maximo=366, defecto=30)
        desde = timezone.now() - timedelta(days=dias)
        return Response(
            {
                "efectivo": efectivo_id,
                "dias": dias,
                **selectors.efectivo_estadisticas(efectivo_id=efectivo_id, desde=desde),
            }
        )
