"""Cache invalidation only: the lean ingest path caches each caller's role and scope in Redis
(posiciones.asgi), and each tracker device with its efectivo (posiciones.dispositivos); any saved
change to a user, to whose efectivo record is whose, or to a device must reach every server process
at once. A signal is the one hook that also sees the admin's and the
management commands' saves. (Bulk `QuerySet.update()` bypasses it; INGESTA_ACTOR_TTL_S bounds
that case.)"""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from efectivos.alcance import clave_actor, clave_dispositivo
from efectivos.models import Dispositivo, Efectivo, Usuario


def _olvidar(*usuario_ids: int | None, dispositivos: list[str] | None = None) -> None:
    claves = [clave_actor(uid) for uid in set(usuario_ids) if uid]
    claves += [clave_dispositivo(h) for h in dispositivos or ()]
    if not claves:
        return

    def borrar() -> None:
        # Redis down: the entry expires by itself within INGESTA_ACTOR_TTL_S.
        with contextlib.suppress(RedisError):
            get_redis_connection("default").delete(*claves)

    transaction.on_commit(borrar)


@receiver(post_save, sender=Usuario)
@receiver(post_delete, sender=Usuario)
def usuario_cambiado(sender, instance: Usuario, update_fields=None, **kwargs) -> None:
    dispositivos = None
    if update_fields is None or "is_active" in update_fields:  # not on each sign-in's last_login
        dispositivos = list(
            Dispositivo.objects.filter(efectivo__usuario_id=instance.pk).values_list("credencial_hash", flat=True)
        )
    _olvidar(instance.pk, dispositivos=dispositivos)


@receiver(pre_save, sender=Efectivo)
def efectivo_por_guardar(sender, instance: Efectivo, update_fields=None, **kwargs) -> None:
    if instance.pk and (update_fields is None or "usuario" in update_fields):
        previo = Efectivo.objects.filter(pk=instance.pk).values_list("usuario_id", flat=True).first()
        instance._usuario_previo = previo  # type: ignore[attr-defined]  # read back in post_save


@receiver(post_save, sender=Efectivo)
@receiver(post_delete, sender=Efectivo)
def efectivo_cambiado(sender, instance: Efectivo, update_fields=None, **kwargs) -> None:
    if update_fields is None or "usuario" in update_fields or "unidad" in update_fields:
        dispositivos = list(
            Dispositivo.objects.filter(efectivo_id=instance.pk).values_list("credencial_hash", flat=True)
        )
        _olvidar(instance.usuario_id, getattr(instance, "_usuario_previo", None), dispositivos=dispositivos)


@receiver(post_save, sender=Dispositivo)
@receiver(post_delete, sender=Dispositivo)
def dispositivo_cambiado(sender, instance: Dispositivo, **kwargs) -> None:
    _olvidar(dispositivos=[instance.credencial_hash])
