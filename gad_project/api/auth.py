"""Signing in for API clients: simplejwt's views, throttled per client address.

Wrong passwords lock a sign-in out with the same counters as the sign-in forms
(gad_project/limites.py: per username and address, per username, per address), counted in Redis
across every server process; behind HAProxy the address is the client's (X-Forwarded-For, which
uvicorn trusts from the proxy only). THROTTLE_TOKEN bounds the requests per address."""

from __future__ import annotations

from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from gad_project import limites


class ObtenerToken(TokenObtainPairView):
    throttle_classes = limites.INGRESO
    throttle_scope = "token"


class RenovarToken(TokenRefreshView):
    """Rotation: each refresh returns a new refresh token and blacklists the one used."""

    throttle_classes = limites.INGRESO
    throttle_scope = "token"
