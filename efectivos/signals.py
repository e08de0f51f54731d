"""Cache invalidation only: the lean ingest path caches each caller's role and scope in Redis
(posiciones.asgi), and any saved change to a user or to whose efectivo record is whose must reach
every server process at once. A signal is the one hook that also sees the admin's and the
management commands' saves. (Bulk `QuerySet.update()` bypasses it; INGESTA_ACTOR_TTL_S bounds
that case.)"""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from efectivos.alcance import clave_actor
from efectivos.models import Efectivo, Usuario


def _olvidar(*usuario_ids: int | None) -> None:
    claves = [clave_actor(uid) for uid in set(usuario_ids) if uid]
    if not claves:
        return

    def borrar() -> None:
        # Redis down: the entry expires by itself within INGESTA_ACTOR_TTL_S.
        with contextlib.suppress(RedisError):
            get_redis_connection("default").delete(*claves)

    transaction.on_commit(borrar)


@receiver(post_save, sender=Usuario)
@receiver(post_delete, sender=Usuario)
def usuario_cambiado(sender, instance: Usuario, **kwargs) -> None:
    _olvidar(instance.pk)


@receiver(pre_save, sender=Efectivo)
def efectivo_por_guardar(sender, instance: Efectivo, update_fields=None, **kwargs) -> None:
    if instance.pk and (update_fields is None or "usuario" in update_fields):
        previo = Efectivo.objects.filter(pk=instance.pk).values_list("usuario_id", flat=True).first()
        instance._usuario_previo = previo  # type: ignore[attr-defined]  # read back in post_save


@receiver(post_save, sender=Efectivo)
@receiver(post_delete, sender=Efectivo)
def efectivo_cambiado(sender, instance: Efectivo, update_fields=None, **kwargs) -> None:
    if update_fields is None or "usuario" in update_fields:
        _olvidar(instance.usuario_id, getattr(instance, "_usuario_previo", None))
