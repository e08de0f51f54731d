"""Signing in for API clients: simplejwt's views, throttled per client address.

The rate (THROTTLE_TOKEN, 30/min by default) is counted in the shared cache (Redis), so it holds
across every server process; behind HAProxy the address is the client's (X-Forwarded-For, which
uvicorn trusts from the proxy only)."""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView


class ObtenerToken(TokenObtainPairView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"


class RenovarToken(TokenRefreshView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
