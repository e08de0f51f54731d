"""When a user's access changes, what they already hold stops working at once, in every process.

- Deactivated, or a new password: every refresh token of theirs is blacklisted (access tokens carry
  a fingerprint of the password and die with it: CHECK_REVOKE_TOKEN; a deactivated user is refused
  by every authentication), their open WebSockets close (4401), and the tile fast path forgets
  their browser sessions.
- Another role or unidad, or another efectivo record: open sockets move to the groups the new
  access gives (or close with 4403 when it gives none), the tile fast path forgets their sessions.
- Signing out: the sockets opened with that browser session close (4401).

Model signals are the one hook that also sees the admin's, the management commands' and the
services' saves (the efectivos app's own receivers drop the ingest's cached caller the same way).
The work runs after commit; a bulk `QuerySet.update()` sends no signal and must call
`acceso_cambiado` itself."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from efectivos.models import Efectivo, Usuario
from mapa import tiles
from realtime.services import sockets_revisar

logger = logging.getLogger(__name__)

_CAMPOS_ACCESO = ("is_active", "rol", "unidad_id", "password")


def tokens_revocar(*, usuario_id: int) -> int:
    """Blacklists every outstanding refresh token of the user; returns how many were live."""
    vivos = OutstandingToken.objects.filter(user_id=usuario_id, blacklistedtoken__isnull=True)
    nuevos = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=t) for t in vivos.only("pk")], ignore_conflicts=True
    )
    return len(nuevos)


def acceso_cambiado(*, usuario_id: int, credenciales: bool) -> None:
    """Applies a change of access after commit (see the module's docstring). `credenciales`: the
    user was deactivated or their password changed, so what they hold is revoked, not re-read."""

    def aplicar() -> None:
        if credenciales:
            tokens_revocar(usuario_id=usuario_id)
        with contextlib.suppress(*tiles.ERRORES_CACHE):
            tiles.sesiones_olvidar(usuario_id)
        sockets_revisar(usuario_id=usuario_id, cerrar=credenciales)

    transaction.on_commit(aplicar)


@receiver(pre_save, sender=Usuario)
def _usuario_antes(sender: Any, instance: Usuario, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (
        update_fields is not None and not {"is_active", "rol", "unidad", "password"} & set(update_fields)
    ):
        return
    instance._acceso_previo = (  # type: ignore[attr-defined]  # read back in post_save
        Usuario.objects.filter(pk=instance.pk).values_list(*_CAMPOS_ACCESO).first()
    )


@receiver(post_save, sender=Usuario)
def _usuario_despues(sender: Any, instance: Usuario, created: bool = False, **kwargs: Any) -> None:
    previo = getattr(instance, "_acceso_previo", None)
    instance._acceso_previo = None  # type: ignore[attr-defined]
    if created or previo is None:
        return
    activo, rol, unidad_id, clave = previo
    credenciales = (activo and not instance.is_active) or clave != instance.password
    if credenciales or rol != instance.rol or unidad_id != instance.unidad_id or activo != instance.is_active:
        acceso_cambiado(usuario_id=instance.pk, credenciales=credenciales)


@receiver(post_save, sender=Efectivo)
def _efectivo_despues(sender: Any, instance: Efectivo, created: bool = False, **kwargs: Any) -> None:
    """An efectivo record given to another user: both see something else now. The previous user
    is read once, before the save, by efectivos.signals (which also drops the ingest's cache)."""
    previo = getattr(instance, "_usuario_previo", instance.usuario_id)
    if previo != instance.usuario_id:
        for usuario_id in (previo, instance.usuario_id):
            if usuario_id is not None:
                acceso_cambiado(usuario_id=int(usuario_id), credenciales=False)


@receiver(user_logged_out)
def _sesion_cerrada(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        with contextlib.suppress(*tiles.ERRORES_CACHE):
            tiles.sesion_olvidar(session_key)
        transaction.on_commit(lambda: sockets_revisar(session_key=session_key, cerrar=True))
