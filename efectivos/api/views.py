from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from auditoria.models import Registro
from auditoria.selectors import acceso_vista, accesos_a
from auditoria.web import PARAMETROS_MOTIVO, auditar_acceso, motivo_de, parametros_motivo
from efectivos import selectors, services, turnos
from efectivos.api.filtros import EfectivoFiltro
from efectivos.api.serializers import (
    AccesoSerializer,
    EfectivoGeoSerializer,
    EstadoEntradaSerializer,
    RecorridoSerializer,
    ServicioEntradaSerializer,
    YoSerializer,
)
from gad_project import bd
from gad_project.api.pagination import Paginacion, PaginacionGeoJson
from gad_project.api.params import param_fecha, param_int
from gad_project.api.permissions import EsEfectivo, EsMando
from gad_project.exceptions import EntradaInvalida
from gad_project.tiempo import iso


class EfectivosListView(generics.ListAPIView):
    """Efectivos the caller may see, as a GeoJSON FeatureCollection (last known position)."""

    serializer_class = EfectivoGeoSerializer
    pagination_class = PaginacionGeoJson
    filterset_class = EfectivoFiltro

    def get_queryset(self):
        return selectors.efectivos_visibles(usuario=self.request.user).select_related("unidad").order_by("id")


class RecorridoView(APIView):
    """An efectivo's track: the readings of the last `horas` hours (or between `desde` and
    `hasta`, at most RECORRIDO_VENTANA_MAX_H apart), oldest first, as [lon, lat, registrada_en,
    implausible, registrada_por]; thinned evenly past 5,000 points."""

    permission_classes = [EsMando]

    @extend_schema(
        parameters=[
            OpenApiParameter("horas", int, description="1 a 72; por defecto 4"),
            OpenApiParameter("desde", str, description="ISO 8601; en lugar de horas"),
            OpenApiParameter("hasta", str, description="ISO 8601; por defecto ahora"),
            *PARAMETROS_MOTIVO,
        ],
        responses={200: RecorridoSerializer},
    )
    @bd.tolerante  # a track tolerates the replica's lag
    def get(self, request, efectivo_id: int):
        efectivo = selectors.efectivo_visible(usuario=request.user, efectivo_id=efectivo_id)
        motivo = motivo_de(request, clave=f"efectivo:{efectivo.pk}", propio=efectivo.usuario_id == request.user.pk)
        p = request.query_params
        hasta = param_fecha(p, "hasta") or timezone.now()
        desde = param_fecha(p, "desde")
        if desde is None:
            horas = param_int(p, "horas", minimo=1, maximo=settings.POSICIONES_ANTIGUEDAD_MAX_H, defecto=4)
            desde = hasta - timedelta(hours=horas)
        if desde >= hasta:
            raise EntradaInvalida("`desde` debe ser anterior a `hasta`.", detalle={"desde": iso(desde)})
        if hasta - desde > timedelta(hours=settings.RECORRIDO_VENTANA_MAX_H):
            raise EntradaInvalida(
                f"La ventana supera {settings.RECORRIDO_VENTANA_MAX_H} horas: pida un intervalo más corto "
                "(o use los exportes para períodos largos).",
                detalle={"maximo_horas": settings.RECORRIDO_VENTANA_MAX_H},
                codigo="ventana_demasiado_larga",
            )
        recorrido = selectors.recorrido_de(efectivo_id=efectivo.pk, desde=desde, hasta=hasta)
        auditar_acceso(request, efectivo, "recorrido", desde=iso(desde), hasta=iso(hasta), **parametros_motivo(motivo))
        return Response(
            {
                "efectivo": efectivo.pk,
                "desde": iso(desde),
                "hasta": iso(hasta),
                "lecturas": recorrido.lecturas,
                "puntos": [
                    [round(lon, 6), round(lat, 6), iso(t), mala, por] for lon, lat, t, mala, por in recorrido.puntos
                ],
            }
        )


def _yo(usuario, efectivo=None) -> dict:
    efectivo = efectivo or selectors.efectivo_de(usuario=usuario)
    return {
        "usuario": usuario.get_username(),
        "nombre": usuario.get_full_name() or usuario.get_username(),
        "rol": selectors.rol_de(usuario),
        "efectivo": efectivo.pk if efectivo else None,
        "codigo": efectivo.codigo_interno if efectivo else None,
        "unidad": efectivo.unidad.codigo if efectivo else None,
        "estado": efectivo.estado if efectivo else None,
        "telegram_vinculado": usuario.telegram_id is not None,
        # Duty (#30): the shift they are on duty in now, if any.
        **_servicio(efectivo),
        # Their own last fix (the field app's distance to a task when the phone has none yet).
        "lat": efectivo.ultima_posicion.y if efectivo and efectivo.ultima_posicion else None,
        "lon": efectivo.ultima_posicion.x if efectivo and efectivo.ultima_posicion else None,
        "posicion_en": efectivo.ultima_posicion_en if efectivo else None,
    }


class YoView(APIView):
    """`GET /api/v1/yo/`: the signed-in user and, for an efectivo, their availability."""

    @extend_schema(responses={200: YoSerializer})
    def get(self, request):
        return Response(_yo(request.user))


class YoAccesosView(generics.GenericAPIView):
    """`GET /api/v1/yo/accesos/`: every read of the signed-in officer's data by someone else —
    who, when, what and why — newest first (auditoria.selectors.accesos_a)."""

    permission_classes = [EsEfectivo]
    pagination_class = Paginacion
    queryset = Registro.objects.none()  # for the schema: the rows come from accesos_a

    @extend_schema(responses={200: AccesoSerializer(many=True)})
    def get(self, request):
        efectivo = selectors.efectivo_de(usuario=request.user)
        qs = accesos_a(efectivo_id=efectivo.pk, usuario_id=request.user.pk)
        pagina = self.paginate_queryset(qs)
        return self.get_paginated_response([acceso_vista(r) for r in pagina])


def _servicio(efectivo) -> dict:
    turno = turnos.turno_actual(efectivo_id=efectivo.pk) if efectivo else None
    return {"en_servicio": turno is not None, "turno": turnos.turno_vista(turno)}


class YoServicioView(APIView):
    """`POST /api/v1/yo/servicio/ {"accion": "inicio"|"fin"}`: "Inicio de servicio" (from
    TURNO_TOLERANCIA_MIN before a shift until its end; 409 `fuera_de_turno` otherwise) and "Fin de
    servicio" (409 `no_en_servicio` when off duty). Off duty, the phone's readings are not stored."""

    permission_classes = [EsEfectivo]

    @extend_schema(request=ServicioEntradaSerializer, responses={200: YoSerializer})
    def post(self, request):
        entrada = ServicioEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        efectivo = selectors.efectivo_de(usuario=request.user)
        if entrada.validated_data["accion"] == "inicio":
            turnos.servicio_iniciar(efectivo=efectivo)
        else:
            turnos.servicio_terminar(efectivo=efectivo)
        efectivo.refresh_from_db()
        return Response(_yo(request.user, efectivo))


class YoEstadoView(APIView):
    """`POST /api/v1/yo/estado/ {"estado": ...}`: an efectivo sets their own availability — the
    same service as the bot's /estado (their commanders see it live; `en_tarea` belongs to the
    task and answers 409)."""

    permission_classes = [EsEfectivo]

    @extend_schema(request=EstadoEntradaSerializer, responses={200: YoSerializer})
    def post(self, request):
        entrada = EstadoEntradaSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        efectivo = selectors.efectivo_de(usuario=request.user)
        efectivo = services.efectivo_estado_cambiar(efectivo=efectivo, estado=entrada.validated_data["estado"])
        return Response(_yo(request.user, efectivo))
