"""The HTML sign-in forms (/login/ and /admin/login/) behind the same lockout as the token
endpoint (gad_project/limites.py): a locked sign-in is refused before the password is checked,
with a 429, Retry-After and the wait in Spanish; wrong passwords are counted by the
`user_login_failed` signal both forms send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponseBase

from gad_project import limites


class _ConBloqueo:
    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            nombre = limites.nombre_normalizado(self.data.get("username"))  # type: ignore[attr-defined]
            espera = limites.ingreso_espera(nombre=nombre, direccion=limites.direccion_de(self.request))
            if espera is not None:
                self.request._gad_ingreso_bloqueado = espera  # type: ignore[attr-defined]  # read by con_bloqueo
                minutos = max(1, -(-espera // 60))
                raise forms.ValidationError(
                    f"Demasiados intentos fallidos: el ingreso de esta cuenta desde aquí queda bloqueado "
                    f"{minutos} minuto{'s' if minutos != 1 else ''}.",
                    code="bloqueado",
                )
        return super().clean()  # type: ignore[misc]


class FormularioIngreso(_ConBloqueo, AuthenticationForm):
    pass


class FormularioIngresoAdmin(_ConBloqueo, AdminAuthenticationForm):
    pass


def con_bloqueo(vista: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The sign-in view's answer to a locked sign-in: 429 with Retry-After, the form shown again."""

    def envuelta(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        respuesta = vista(request, *args, **kwargs)
        espera = getattr(request, "_gad_ingreso_bloqueado", None)
        if espera:
            respuesta.status_code = 429
            respuesta["Retry-After"] = str(espera)
        return respuesta

    return envuelta
