from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from efectivos import metrics, selectors, services
from efectivos.api.lecturas import LecturaValidada, lectura_validar
from efectivos.api.serializers import EfectivoGeoSerializer, IngestaRespuestaSerializer, LecturaSerializer
from efectivos.models import EstadoEfectivo, FuentePosicion, Usuario
from gad_project.api.errors import error_body
from gad_project.api.pagination import PaginacionGeoJson
from gad_project.api.params import param_bbox, param_fecha, param_int, param_opcion
from gad_project.api.permissions import EsMando
from gad_project.exceptions import EntradaInvalida


class EfectivosListView(generics.ListAPIView):
    """Efectivos the caller may see, as a GeoJSON FeatureCollection (last known position)."""

    serializer_class = EfectivoGeoSerializer
    pagination_class = PaginacionGeoJson
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("estado", enum=EstadoEfectivo.values),
            OpenApiParameter("unidad", int),
            OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.efectivos_listar(
            usuario=self.request.user,
            estado=param_opcion(params, "estado", EstadoEfectivo.values),
            unidad_id=param_int(params, "unidad", minimo=1, maximo=2**62),
            bbox=param_bbox(params),
        )


class PosicionesView(APIView):
    """Receive one reading or a batch (a JSON list, up to POSICIONES_LOTE_MAX).

    Bad readings are reported one by one while the good ones in the same batch are stored: a
    phone emptying a full buffer must not lose a day of positions to one corrupt reading. The
    response is then a 400 whose `detalle` says which readings were rejected and why, and how many
    were accepted; resending the whole batch is harmless (duplicates are counted, not stored)."""

    @extend_schema(request=LecturaSerializer(many=True), responses={201: IngestaRespuestaSerializer})
    def post(self, request):
        data = request.data
        es_lote = isinstance(data, list)
        items = data if es_lote else [data]
        if es_lote and not items:
            raise EntradaInvalida("El lote está vacío.", codigo="lote_vacio")
        if len(items) > settings.POSICIONES_LOTE_MAX:
            metrics.RECHAZADAS.labels(motivo="lote_demasiado_grande").inc(len(items))
            raise EntradaInvalida(
                f"El lote supera el máximo de {settings.POSICIONES_LOTE_MAX} lecturas.",
                detalle={"maximo": settings.POSICIONES_LOTE_MAX, "recibidas": len(items)},
                codigo="lote_demasiado_grande",
            )

        usuario: Usuario = request.user
        propio = selectors.efectivo_de(usuario=usuario)
        ahora = timezone.now()
        futuro = timedelta(seconds=settings.POSICIONES_FUTURO_MAX_S)
        antiguedad = timedelta(hours=settings.POSICIONES_ANTIGUEDAD_MAX_H)

        validas: list[tuple[int, LecturaValidada]] = []
        rechazadas: list[dict] = []
        for indice, item in enumerate(items):
            lectura, errores = lectura_validar(item, ahora=ahora, futuro_max=futuro, antiguedad_max=antiguedad)
            if errores:
                rechazadas.append({"indice": indice, "id_cliente": _id_de(item), "errores": errores})
            else:
                validas.append((indice, lectura))

        # Who each reading is for: the caller's own record unless a commander/admin names another.
        pedidos = {lec.efectivo for _, lec in validas if lec.efectivo is not None}
        permitidos = (
            set(selectors.efectivos_visibles(usuario=usuario).filter(pk__in=pedidos).values_list("pk", flat=True))
            if pedidos and usuario.es_mando
            else set()
        )
        lecturas: list[services.LecturaNueva] = []
        for indice, lec in validas:
            efectivo_id = lec.efectivo or (propio.pk if propio else None)
            motivo = None
            if efectivo_id is None:
                motivo = "Obligatorio: el usuario no tiene legajo de efectivo asociado."
            elif lec.efectivo is not None and lec.efectivo != (propio.pk if propio else None):
                if not usuario.es_mando:
                    motivo = "Solo comandantes o administradores pueden enviar posiciones de otro efectivo."
                elif lec.efectivo not in permitidos:
                    motivo = "Efectivo inexistente o fuera de su alcance."
            if motivo:
                rechazadas.append(
                    {"indice": indice, "id_cliente": str(lec.id_cliente), "errores": {"efectivo": motivo}}
                )
                continue
            lecturas.append(
                services.LecturaNueva(
                    id_cliente=lec.id_cliente,
                    efectivo_id=efectivo_id,
                    lat=lec.lat,
                    lon=lec.lon,
                    registrada_en=lec.registrada_en,
                    precision_m=lec.precision_m,
                    velocidad_kmh=lec.velocidad_kmh,
                    rumbo=lec.rumbo,
                )
            )

        resultado = services.posiciones_registrar(lecturas=lecturas, fuente=FuentePosicion.API)
        cuerpo = {"aceptadas": resultado.aceptadas, "duplicadas": resultado.duplicadas}
        if rechazadas:
            metrics.RECHAZADAS.labels(motivo="lectura_invalida").inc(len(rechazadas))
            rechazadas.sort(key=lambda r: r["indice"])
            mensaje = (
                f"{len(rechazadas)} de {len(items)} lecturas rechazadas; las demás se guardaron."
                if es_lote
                else "La lectura fue rechazada."
            )
            return Response(
                error_body("lecturas_invalidas", mensaje, {**cuerpo, "rechazadas": rechazadas}),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(cuerpo, status=status.HTTP_201_CREATED)


def _id_de(item) -> str | None:
    valor = item.get("id_cliente") if isinstance(item, dict) else None
    return valor if isinstance(valor, str) else None


class RecorridoView(APIView):
    """An efectivo's track: the readings of the last `horas` hours (or between `desde` and
    `hasta`), oldest first, as [lon, lat, registrada_en]; thinned evenly past 5,000 points."""

    permission_classes = [EsMando]

    @extend_schema(
        parameters=[
            OpenApiParameter("horas", int, description="1 a 72; por defecto 4"),
            OpenApiParameter("desde", str, description="ISO 8601; en lugar de horas"),
            OpenApiParameter("hasta", str, description="ISO 8601; por defecto ahora"),
        ]
    )
    def get(self, request, efectivo_id: int):
        efectivo = selectors.efectivo_visible(usuario=request.user, efectivo_id=efectivo_id)
        p = request.query_params
        hasta = param_fecha(p, "hasta") or timezone.now()
        desde = param_fecha(p, "desde")
        if desde is None:
            horas = param_int(p, "horas", minimo=1, maximo=settings.POSICIONES_ANTIGUEDAD_MAX_H, defecto=4)
            desde = hasta - timedelta(hours=horas)
        if desde >= hasta:
            raise EntradaInvalida("`desde` debe ser anterior a `hasta`.", detalle={"desde": desde.isoformat()})
        recorrido = selectors.recorrido_de(efectivo_id=efectivo.pk, desde=desde, hasta=hasta)
        return Response(
            {
                "efectivo": efectivo.pk,
                "desde": desde.isoformat(),
                "hasta": hasta.isoformat(),
                "lecturas": recorrido.lecturas,
                "puntos": [[round(lon, 6), round(lat, 6), t.isoformat()] for lon, lat, t in recorrido.puntos],
            }
        )
