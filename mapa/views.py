"""The commanders' live map: the page, its snapshot and panels, and the vector tiles."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from auditoria.motivos import DETALLE_MAX as MOTIVO_DETALLE_MAX
from auditoria.motivos import Motivo
from auditoria.web import auditar_acceso
from efectivos.alcance import alcance_de
from efectivos.models import EstadoEfectivo
from efectivos.selectors import efectivo_visible, rol_de, unidades_visibles
from gad_project.api.errors import error_body
from gad_project.api.permissions import EsMando
from gad_project.exceptions import EntradaInvalida, NoEncontrado
from geocercas.models import TipoGeocerca
from mapa import base, selectors, tiles
from mapa.serializers import EfectivoPanelSerializer, MapaDatosSerializer
from tareas.models import EstadoTarea, Prioridad, TipoTarea
from tareas.selectors import tareas_de_efectivo


@login_required
def mapa(request: HttpRequest) -> HttpResponse:
    alcance = tiles.alcance_teselas(request.user)
    if alcance is None or isinstance(request.user, AnonymousUser):
        if alcance_de(request.user).efectivo_id is not None:
            return redirect("campo")  # officers work in the field app
        return render(request, "mapa/rechazado.html", status=403)
    config = {
        "usuario": request.user.get_full_name() or request.user.get_username(),
        "rol": rol_de(request.user),
        "unidades": list(unidades_visibles(usuario=request.user).order_by("codigo").values("id", "codigo", "nombre")),
        "centro": settings.MAPA_CENTRO,
        "zona": selectors.zona_operativa(alcance.unidad_id),
        "tilesBase": settings.MAPA_TILES_URL,
        "osm": base_osm_config(),
        "zonaHoraria": settings.TIME_ZONE,
        "fixViejoMin": settings.DESPACHO_FIX_MAX_MIN,
        "bateriaBaja": settings.DISPOSITIVO_BATERIA_BAJA_PCT,
        "estados": dict(EstadoEfectivo.choices),
        "estadosTarea": dict(EstadoTarea.choices),
        "prioridades": {str(k): v for k, v in Prioridad.choices},
        "tiposTarea": dict(TipoTarea.choices),
        "tiposGeocerca": dict(TipoGeocerca.choices),
        "motivos": dict(Motivo.choices),
        "motivoDetalleMax": MOTIVO_DETALLE_MAX,
    }
    return render(request, "mapa/mapa.html", {"config": config, "es_admin": alcance.unidad_id is None})


def base_osm_config() -> dict | None:
    """What the map's style needs of the installed OpenStreetMap archive, or None without one."""
    info = base.osm_info()
    if info is None:
        return None
    try:
        version = tiles.capa_version("osm")
    except tiles.ERRORES_CACHE:
        version = 0
    return {"minzoom": info.minzoom, "maxzoom": info.maxzoom, "bounds": list(info.bounds), "version": version}


class MapaDatosView(APIView):
    """The map's snapshot: cursor for the socket plus efectivos, open tasks and jurisdictions."""

    permission_classes = [EsMando]

    @extend_schema(responses={200: MapaDatosSerializer})
    def get(self, request):
        # One transaction: its statements share one row-level security context (gad_project.rls)
        # instead of one small transaction each.
        with transaction.atomic():
            cuerpo = selectors.mapa_inicial(usuario=request.user, alcance=tiles.alcance_teselas(request.user))
        return HttpResponse(cuerpo, content_type="application/json", headers={"Cache-Control": "no-store"})


class EfectivoPanelView(APIView):
    """What the side panel shows for one efectivo: who, where, since when, and what they hold."""

    permission_classes = [EsMando]

    @extend_schema(responses={200: EfectivoPanelSerializer})
    def get(self, request, efectivo_id: int):
        e = efectivo_visible(usuario=request.user, efectivo_id=efectivo_id)
        auditar_acceso(request, e, "ficha del efectivo")
        tareas = tareas_de_efectivo(efectivo_id=e.pk)
        return Response(
            {
                "id": e.pk,
                "codigo": e.codigo_interno,
                "nombre": f"{e.apellido}, {e.nombre}",
                "rango": e.rango,
                "unidad": e.unidad.codigo,
                "especialidades": e.especialidades,
                "estado": e.estado,
                "lon": e.ultima_posicion.x if e.ultima_posicion else None,
                "lat": e.ultima_posicion.y if e.ultima_posicion else None,
                "ultima_posicion_en": e.ultima_posicion_en,
                "precision_m": e.ultima_precision_m,
                "tiene_usuario": e.usuario_id is not None,
                "telegram_vinculado": e.usuario is not None and e.usuario.telegram_id is not None,
                "tareas": [
                    {"id": t.pk, "codigo": t.codigo, "titulo": t.titulo, "estado": t.estado, "prioridad": t.prioridad}
                    for t in tareas
                ],
                "ahora": timezone.now(),
            }
        )


_jwt = JWTAuthentication()


def _usuario_de(request: HttpRequest):
    """The session user (the map page), or the bearer of a valid JWT (other clients)."""
    if request.user.is_authenticated:
        return request.user
    if request.META.get("HTTP_AUTHORIZATION"):
        try:
            resultado = _jwt.authenticate(request)  # type: ignore[arg-type]  # reads only the header
        except AuthenticationFailed:
            return None
        if resultado is None:
            return None
        # As DRF does: the request's user is the token's, so that its statements run under that
        # user's row-level-security context (gad_project.rls.de_solicitud reads request.user).
        # Without it a JWT client's uncached tile was built with no rows visible: empty.
        request.user = resultado[0]  # type: ignore[assignment]  # simplejwt types it as the base user
        request._tile_token = resultado[1]  # type: ignore[attr-defined]  # for the fast path's key
        return resultado[0]
    return None


def _error(estado: int, codigo: str, mensaje: str, detalle=None) -> JsonResponse:
    return JsonResponse(error_body(codigo, mensaje, detalle), status=estado)


@require_GET
def tile(request: HttpRequest, capa: str, z: str, x: str, y: str) -> HttpResponse:
    """`/tiles/{capa}/{z}/{x}/{y}.pbf`: a Mapbox Vector Tile of the viewer's scope, 204 when empty.

    A plain view rather than DRF: it is the most requested URL of the map, and a cached tile should
    cost little more than one Redis read. The ETag is the layer version and scope, so a browser
    revalidating an unchanged tile gets a 304 without the tile being read at all."""
    usuario = _usuario_de(request)
    if usuario is None:
        return _error(401, "no_autenticado", "Se requieren credenciales de autenticación.")
    alcance = tiles.alcance_teselas(usuario)
    if alcance is None:
        return _error(403, "no_permitido", "Solo comandantes o administradores.")
    if capa not in tiles.CAPAS:
        return _error(404, "capa_inexistente", f"Capa desconocida: {capa}.", {"capas": sorted(tiles.CAPAS)})
    try:
        z_, x_, y_ = tiles.coordenadas_validar(z, x, y)
    except EntradaInvalida as exc:
        return _error(400, exc.codigo, exc.mensaje, exc.detalle)
    try:
        version = tiles.capa_version(capa)
    except tiles.ERRORES_CACHE:
        version = 0
    etag = f'"{capa}-{version}-{tiles.clave_alcance(capa, alcance)}"'
    cabeceras = {
        "Cache-Control": f"private, max-age={tiles.max_age_de(capa)}",
        "Vary": "Cookie, Authorization",
        "ETag": etag,
    }
    if version and request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers=cabeceras)
    try:
        datos = tiles.tile_obtener(capa=capa, z=z_, x=x_, y=y_, alcance=alcance, version=version or None)
    except NoEncontrado as exc:
        return _error(404, exc.codigo, exc.mensaje, exc.detalle)
    if request.user.is_authenticated and request.session.session_key:
        with contextlib.suppress(*tiles.ERRORES_CACHE):
            tiles.sesion_recordar(request.session.session_key, alcance, usuario_id=request.user.pk)
    elif (token := getattr(request, "_tile_token", None)) is not None:
        # A JWT client: its next cached tiles come from the fast path too (mapa.asgi).
        with contextlib.suppress(*tiles.ERRORES_CACHE):
            tiles.sesion_recordar(
                tiles.clave_portador(usuario.pk, token.get(jwt_settings.REVOKE_TOKEN_CLAIM)),
                alcance,
                usuario_id=usuario.pk,
            )
    if not datos:
        return HttpResponse(status=204, headers=cabeceras)
    return HttpResponse(datos, content_type=tiles.CONTENT_TYPE, headers=cabeceras)


class VigenciasView(APIView):
    """Fences out of their schedule now (drawn hatched and grey, "fuera de horario · desde …"),
    and when the next one changes, so the map redraws then."""

    permission_classes = [EsMando]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Vigencias",
                {
                    "fuera": inline_serializer(
                        "FueraDeHorario",
                        {"id": serializers.IntegerField(), "desde": serializers.DateTimeField(allow_null=True)},
                        many=True,
                    ),
                    "proximo_cambio": serializers.DateTimeField(allow_null=True),
                },
            )
        }
    )
    def get(self, request):
        from geocercas.selectors import vigencias

        return Response(vigencias(usuario=request.user, ahora=timezone.now()))


class TareasActualesView(APIView):
    """The status board's "current task" column: for each efectivo in scope with a live
    assignment on an open task, that task's id, code and title (the newest if several)."""

    permission_classes = [EsMando]

    @extend_schema(
        responses={
            200: inline_serializer(
                "TareaActual",
                {
                    "efectivo": serializers.IntegerField(),
                    "tarea": serializers.IntegerField(),
                    "codigo": serializers.CharField(),
                    "titulo": serializers.CharField(),
                },
                many=True,
            )
        }
    )
    def get(self, request):
        return Response(selectors.tareas_actuales(usuario=request.user))


class BuscarView(APIView):
    """The map's search box: efectivos by name or code, tasks by code or title, geocercas by name,
    within the caller's scope, and the streets, places and intersections ("A y B") of the
    installed extract; every word of `q` matching, accents and case aside."""

    permission_classes = [EsMando]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="2 a 100 caracteres.")],
        responses={
            200: inline_serializer(
                "Busqueda",
                {
                    "resultados": inline_serializer(
                        "Resultado",
                        {
                            "tipo": serializers.ChoiceField(["efectivo", "tarea", "geocerca", "lugar", "esquina"]),
                            "id": serializers.IntegerField(allow_null=True),
                            "titulo": serializers.CharField(),
                            "detalle": serializers.CharField(),
                            "lon": serializers.FloatField(allow_null=True),
                            "lat": serializers.FloatField(allow_null=True),
                            "bbox": serializers.ListField(child=serializers.FloatField(), allow_null=True),
                        },
                        many=True,
                    )
                },
            )
        },
    )
    def get(self, request):
        q = " ".join(request.query_params.get("q", "").split())
        if "\x00" in q:
            raise EntradaInvalida("La búsqueda no puede contener el carácter nulo.", detalle={"q": "\\x00"})
        if not selectors.BUSCAR_MIN <= len(q) <= selectors.BUSCAR_MAX:
            raise EntradaInvalida(
                f"La búsqueda lleva de {selectors.BUSCAR_MIN} a {selectors.BUSCAR_MAX} caracteres.",
                detalle={"q": q[:20]},
            )
        return Response({"resultados": selectors.buscar(usuario=request.user, q=q)})
