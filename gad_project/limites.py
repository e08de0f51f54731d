"""Per-user limits on writes, counted in Redis so they hold across every server process.

- `LIMITE_POSICIONES` (600/min by default): readings requests per user — ten a second, for a phone
  that sends one a second and uploads its buffer after a dead zone (a batch is one request). Both
  the lean ASGI path and the DRF view count into the same window.
- `LIMITE_ESCRITURAS` (120/min): every other POST/PUT/PATCH/DELETE of the API, per user.
- Signing in: `THROTTLE_TOKEN` (30/min) attempts per client address, and `THROTTLE_TOKEN_USUARIO`
  (10/15min) wrong passwords per username from any address — then that account is locked out of
  sign-in until the window ends.

Over a limit the answer is 429 with Retry-After. A rate is "N/s", "N/min", "N/h" or "N/d"; "0"
turns a limit off. If Redis is down the limits are not enforced (readings keep being stored)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_redis import get_redis_connection
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

_PERIODOS = {"s": 1, "seg": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limite:
    cantidad: int  # 0: no limit
    periodo_s: int

    @classmethod
    def leer(cls, nombre: str, texto: str) -> Limite:
        if texto.strip() == "0":
            return cls(0, 1)
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", texto.lower())
        if m is None or m.group(3) not in _PERIODOS:
            raise ImproperlyConfigured(f"{nombre}={texto!r}: use N/s, N/min, N/h or N/d, or N/15min (0: no limit)")
        return cls(int(m.group(1)), int(m.group(2) or 1) * _PERIODOS[m.group(3)])

    def clave(self, ambito: str, usuario_id: object, ahora: float) -> tuple[str, int]:
        """The window's Redis key and the seconds until it ends."""
        ventana = int(ahora // self.periodo_s)
        resta = self.periodo_s - int(ahora - ventana * self.periodo_s)
        return f"{settings.REDIS_PREFIX}:limite:{ambito}:{usuario_id}:{ventana}", max(1, resta)

    def contar(self, tubo, ambito: str, usuario_id: object) -> int:
        """Queues one request's count on a Redis pipeline (sync or asyncio: the caller's round
        trip); returns the seconds until the window ends. The pipeline's first result of the two
        queued here is the count so far, for `espera`."""
        clave, resta = self.clave(ambito, usuario_id, time.time())
        tubo.incr(clave)
        tubo.expire(clave, self.periodo_s + 1)
        return resta

    def espera(self, cuenta: int, resta: int) -> int | None:
        """The seconds to wait when `cuenta` is over the limit, else None."""
        return resta if self.cantidad and cuenta > self.cantidad else None


def posiciones() -> Limite:
    return Limite.leer("LIMITE_POSICIONES", settings.LIMITE_POSICIONES)


def escrituras() -> Limite:
    return Limite.leer("LIMITE_ESCRITURAS", settings.LIMITE_ESCRITURAS)


def consumir(limite: Limite, ambito: str, usuario_id: object) -> int | None:
    """Counts one request; the seconds to wait if it is over the limit, else None."""
    if not limite.cantidad:
        return None
    try:
        tubo = get_redis_connection("default").pipeline(transaction=False)
        resta = limite.contar(tubo, ambito, usuario_id)
        n, _ = tubo.execute()
    except RedisError:
        return None
    return limite.espera(n, resta)


class Escrituras(BaseThrottle):
    """The API's default throttle: every write, per user — the readings endpoint
    (`limite_ambito = "posiciones"`) in its own window, shared with the lean ASGI path."""

    def allow_request(self, request, view) -> bool:
        self.espera: int | None = None
        usuario = getattr(request, "user", None)
        if request.method in SAFE_METHODS or usuario is None or not usuario.is_authenticated:
            return True
        ambito = getattr(view, "limite_ambito", "") or "escrituras"
        limite = posiciones() if ambito == "posiciones" else escrituras()
        self.espera = consumir(limite, ambito, usuario.pk)
        return self.espera is None

    def wait(self) -> float | None:
        return self.espera


class FallosPorUsuario(BaseThrottle):
    """Wrong passwords per username, from any address: past `THROTTLE_TOKEN_USUARIO` failures in
    its window the account's sign-in answers 429 until the window ends (a lockout that a right
    password does not lift early). Successful sign-ins are not counted."""

    def allow_request(self, request, view) -> bool:
        self.espera: int | None = None
        nombre = _usuario_de(request)
        limite = fallos_limite()
        if nombre is None or not limite.cantidad:
            return True
        try:
            redis = get_redis_connection("default")
            n = int(redis.get(_clave_fallos(nombre)) or 0)
            if n >= limite.cantidad:
                self.espera = max(1, int(redis.ttl(_clave_fallos(nombre))))
        except RedisError:
            return True
        return self.espera is None

    def wait(self) -> float | None:
        return self.espera


def fallo_registrar(request) -> None:
    """A sign-in refused for bad credentials counts against the username."""
    nombre = _usuario_de(request)
    limite = fallos_limite()
    if nombre is None or not limite.cantidad:
        return
    try:
        tubo = get_redis_connection("default").pipeline(transaction=False)
        tubo.set(_clave_fallos(nombre), 0, ex=limite.periodo_s, nx=True)
        tubo.incr(_clave_fallos(nombre))
        tubo.execute()
    except RedisError:
        return


def fallos_limite() -> Limite:
    return Limite.leer("THROTTLE_TOKEN_USUARIO", settings.THROTTLE_TOKEN_USUARIO)


def _usuario_de(request) -> str | None:
    datos = request.data if hasattr(request.data, "get") else {}
    nombre = datos.get("username")
    return nombre.strip().lower()[:150] if isinstance(nombre, str) and nombre.strip() else None


def _clave_fallos(nombre: str) -> str:
    return f"{settings.REDIS_PREFIX}:limite:ingreso:{nombre}"


INGRESO = [ScopedRateThrottle, FallosPorUsuario]
