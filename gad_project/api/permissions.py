"""Permission base classes shared by every API. What a user may *see* lives in selectors
(`<app>.selectors.*_visibles`); these only gate who may call an endpoint at all."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from efectivos.models import Rol
from efectivos.selectors import rol_de


class EsMando(BasePermission):
    """Commanders and administrators: the people who run operations."""

    message = "Solo comandantes o administradores."

    def has_permission(self, request, view) -> bool:
        return rol_de(request.user) in {Rol.ADMINISTRADOR, Rol.COMANDANTE}


class EsEfectivo(BasePermission):
    message = "Solo efectivos con legajo asociado."

    def has_permission(self, request, view) -> bool:
        return rol_de(request.user) == Rol.EFECTIVO and hasattr(request.user, "efectivo")


class LecturaAutenticadaEscrituraMando(BasePermission):
    """Any signed-in user may read (scoped by selectors); only commanders and admins write."""

    message = "Solo comandantes o administradores pueden modificar."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return rol_de(request.user) in {Rol.ADMINISTRADOR, Rol.COMANDANTE}
