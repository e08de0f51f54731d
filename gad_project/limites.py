"""Per-user limits on writes, counted in Redis so they hold across every server process.

- `LIMITE_POSICIONES` (600/min by default): readings requests per user — ten a second, for a phone
  that sends one a second and uploads its buffer after a dead zone (a batch is one request). Both
  the lean ASGI path and the DRF view count into the same window.
- `LIMITE_ESCRITURAS` (120/min): every other POST/PUT/PATCH/DELETE of the API, per user.
- Signing in (the token endpoint and both sign-in forms): wrong passwords per username and address,
  per username and per address (see "Signing in" below), plus `THROTTLE_TOKEN` (300/min) requests
  to the token endpoints per address, a flood bound.

Over a limit the answer is 429 with Retry-After. A rate is "N/s", "N/min", "N/h" or "N/d"; "0"
turns a limit off. If Redis is down the limits are not enforced (readings keep being stored)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
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


# --- Signing in --------------------------------------------------------------------------------
# One set of counters for every way in — the token endpoint, /login/ and /admin/login/ — fed by
# Django's `user_login_failed` signal (each of them authenticates through `authenticate()` with the
# request). Wrong passwords are counted, never right ones, in three windows:
#   par: one username from one address (INGRESO_FALLOS_PAR): the lockout a guesser meets first.
#     An attacker elsewhere cannot lock an officer's own phone out with it.
#   usuario: one username from every address (INGRESO_FALLOS_USUARIO): a slower backstop against
#     guessing spread over many addresses.
#   direccion: one address, every username (INGRESO_FALLOS_DIRECCION): password spraying. Only
#     failures count, so a shift behind one NAT signing in is never throttled.
# Any window over its limit refuses that sign-in (429, Retry-After: the window's rest), even with
# the right password, until the window ends.

VENTANAS_INGRESO = ("par", "usuario", "direccion")


def ingreso_limites() -> dict[str, Limite]:
    return {
        "par": Limite.leer("INGRESO_FALLOS_PAR", settings.INGRESO_FALLOS_PAR),
        "usuario": Limite.leer("INGRESO_FALLOS_USUARIO", settings.INGRESO_FALLOS_USUARIO),
        "direccion": Limite.leer("INGRESO_FALLOS_DIRECCION", settings.INGRESO_FALLOS_DIRECCION),
    }


def direccion_de(request) -> str:
    """The client's address as the API's throttles see it (NUM_PROXIES: the entry the nearest
    proxy appended to X-Forwarded-For, which a client cannot forge)."""
    return BaseThrottle().get_ident(request) or "?"


def nombre_normalizado(nombre: object) -> str | None:
    return nombre.strip().lower()[:150] if isinstance(nombre, str) and nombre.strip() else None


def _claves_ingreso(nombre: str | None, direccion: str) -> dict[str, str]:
    base = f"{settings.REDIS_PREFIX}:limite:ingreso"
    claves = {"direccion": f"{base}:direccion:{direccion}"}
    if nombre is not None:
        claves["par"] = f"{base}:par:{nombre}|{direccion}"
        claves["usuario"] = f"{base}:usuario:{nombre}"
    return claves


def ingreso_espera(*, nombre: str | None, direccion: str) -> int | None:
    """The seconds this sign-in must wait (one of its windows is over its limit), else None."""
    limites = ingreso_limites()
    claves = {v: c for v, c in _claves_ingreso(nombre, direccion).items() if limites[v].cantidad}
    if not claves:
        return None
    try:
        redis = get_redis_connection("default")
        cuentas = redis.mget(list(claves.values()))
        llenas = [c for (v, c), n in zip(claves.items(), cuentas, strict=True) if int(n or 0) >= limites[v].cantidad]
        if not llenas:
            return None
        return max(max(1, int(redis.ttl(c))) for c in llenas)
    except RedisError:
        return None  # Redis down: sign-in goes on unlimited rather than not at all


def ingreso_fallido(*, nombre: str | None, direccion: str) -> None:
    """A sign-in refused for bad credentials: counted in each window (fixed, from its first failure)."""
    limites = ingreso_limites()
    try:
        tubo = get_redis_connection("default").pipeline(transaction=False)
        for ventana, clave in _claves_ingreso(nombre, direccion).items():
            if limites[ventana].cantidad:
                tubo.set(clave, 0, ex=limites[ventana].periodo_s, nx=True)
                tubo.incr(clave)
        tubo.execute()
    except RedisError:
        return


@receiver(user_login_failed)
def _ingreso_fallido(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None or getattr(request, "_gad_ingreso_bloqueado", False):
        return  # no client to count against; or refused by the lockout itself, not by a password
    ingreso_fallido(nombre=nombre_normalizado(credentials.get("username")), direccion=direccion_de(request))


class IngresoBloqueado(BaseThrottle):
    """The token endpoint's side of the sign-in lockout."""

    def allow_request(self, request, view) -> bool:
        datos = request.data if hasattr(request.data, "get") else {}
        self.espera = ingreso_espera(nombre=nombre_normalizado(datos.get("username")), direccion=direccion_de(request))
        return self.espera is None

    def wait(self) -> float | None:
        return self.espera


INGRESO = [ScopedRateThrottle, IngresoBloqueado]
