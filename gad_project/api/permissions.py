"""Permission base classes shared by every API. What a user may *see* lives in selectors
(`<app>.selectors.*_visibles`); these only gate who may call an endpoint at all."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from efectivos.alcance import alcance_de


class EsMando(BasePermission):
    """Commanders and administrators: the people who run operations."""

    message = "Solo comandantes o administradores."

    def has_permission(self, request, view) -> bool:
        return alcance_de(request.user).es_mando


class EsEfectivo(BasePermission):
    message = "Solo efectivos con legajo asociado."

    def has_permission(self, request, view) -> bool:
        return alcance_de(request.user).es_efectivo


class LecturaAutenticadaEscrituraMando(BasePermission):
    """Any signed-in user may read (scoped by selectors); only commanders and admins write."""

    message = "Solo comandantes o administradores pueden modificar."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return alcance_de(request.user).es_mando
