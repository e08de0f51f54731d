"""Signing in for API clients: simplejwt's views, throttled per client address.

The rate (THROTTLE_TOKEN, 30/min by default) is counted in the shared cache (Redis), so it holds
across every server process; behind HAProxy the address is the client's (X-Forwarded-For, which
uvicorn trusts from the proxy only); THROTTLE_TOKEN_USUARIO also bounds the attempts on one
username from any number of addresses."""

from __future__ import annotations

from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from gad_project import limites


class ObtenerToken(TokenObtainPairView):
    throttle_classes = limites.INGRESO
    throttle_scope = "token"

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code == 401:
            limites.fallo_registrar(request)
        return super().finalize_response(request, response, *args, **kwargs)


class RenovarToken(TokenRefreshView):
    """Rotation: each refresh returns a new refresh token and blacklists the one used."""

    throttle_classes = limites.INGRESO
    throttle_scope = "token"
