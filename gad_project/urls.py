from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from auditoria.web import motivo_descarga
from campo.views import inicio
from gad_project import health, metricas
from gad_project.api.auth import ObtenerToken, RenovarToken
from gad_project.api.errors import error_body
from gad_project.ingreso import FormularioIngreso, FormularioIngresoAdmin, con_bloqueo

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", ObtenerToken.as_view(), name="token_obtain"),
    path("auth/token/refresh/", RenovarToken.as_view(), name="token_refresh"),
    path("", include("efectivos.api.urls")),
    path("", include("posiciones.api.urls")),
    path("", include("geocercas.api.urls")),
    path("", include("realtime.api.urls")),
    path("", include("tareas.api.urls")),
    path("", include("seguridad.api.urls")),
    path("", include("mensajes.api.urls")),
    path("", include("telegram_bot.api.urls")),
    path("", include("exportes.api.urls")),
]


@csrf_exempt  # nothing to protect, and a POST with a session cookie must get this 404, not a CSRF page
def api_no_encontrado(request, ruta: str = "") -> JsonResponse:
    """Anything under /api/ (or the map's JSON under /mapa/datos/) that no route matches: the
    project's error shape, not an HTML page."""
    return JsonResponse(
        error_body("no_encontrado", "No existe ese recurso de la API.", {"ruta": request.path[:200]}), status=404
    )


urlpatterns = [
    path("", inicio, name="inicio"),
    path("", include("mapa.urls")),
    path("", include("reportes.urls")),
    path("", include("campo.urls")),
    # Both sign-in forms behind the API's lockout (gad_project.ingreso); the admin's before its urls.
    path("admin/login/", con_bloqueo(admin.site.login)),
    path("admin/motivo/", motivo_descarga, name="admin_motivo"),
    path("admin/", admin.site.urls),
    path("login/", con_bloqueo(auth_views.LoginView.as_view(authentication_form=FormularioIngreso)), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^(?:api|mapa/datos)/(?P<ruta>.*)$", api_no_encontrado),
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", metricas.metricas, name="metrics"),
]

handler400 = "gad_project.api.errors.solicitud_invalida"

admin.site.login_form = FormularioIngresoAdmin
admin.site.site_header = "GRUPO_GAD · Administración"
admin.site.site_title = "GRUPO_GAD"
admin.site.index_title = "Centro de operaciones"
