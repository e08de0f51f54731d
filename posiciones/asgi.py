"""The lean path for `POST /api/v1/posiciones/` with a JWT: the product's volume.

A phone sends one reading at a time, so what a request costs before the domain work decides the
rate. This ASGI app answers such requests before Django: the body is bounded before it is read
(413), the access token is verified in-process (signature, expiry, type: no database), the caller
(role, scope, own efectivo record) comes from a short-lived Redis entry that any change to the
user or their efectivo record deletes, so deactivation cuts access at once in every process.
Then the same validation as the DRF view (posiciones.ingesta) and the same service, through this
process's group commit (posiciones.agrupador).

Anything else on this path — no Bearer token (a browser session), another method — goes to the
DRF view, which applies the same rules."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from efectivos.alcance import Actor, actor_de, clave_actor
from efectivos.models import Usuario
from gad_project import limites, rls
from gad_project.api.errors import error_body
from gad_project.asgi_util import App, Cabeceras, Receive, Scope, Send, cabecera
from gad_project.exceptions import EntradaInvalida, ServicioNoDisponible
from posiciones import ingesta
from posiciones.agrupador import Agrupador
from posiciones.dispositivos import RUTAS, IngresoDispositivos

logger = logging.getLogger(__name__)
RUTA = "/api/v1/posiciones/"


class CuerpoDemasiadoGrande(Exception):
    pass


class Desconectado(Exception):
    pass


class IngestaRapida:
    def __init__(self, app: App) -> None:
        self.app = app
        self.redis: aioredis.Redis | None = None
        self.limite = limites.posiciones()
        self.agrupador = Agrupador(max_lecturas=settings.INGESTA_GRUPO_MAX, escritores=settings.INGESTA_ESCRITORES)
        self.dispositivos = IngresoDispositivos(self.agrupador)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in RUTAS and scope["method"] in ("POST", "GET"):
            await self._dispositivo(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] != RUTA or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            cuerpo = await _cuerpo_leer(scope, receive, settings.POSICIONES_CUERPO_MAX_BYTES)
        except Desconectado:
            return None
        except CuerpoDemasiadoGrande:
            await _responder(send, 413, _demasiado_grande(), cerrar=True)
            return
        autorizacion = cabecera(scope, b"authorization") or b""
        if autorizacion[:7].lower() != b"bearer ":
            await self.app(scope, _repetir(cuerpo, receive), send)
            return
        estado, respuesta, extra = await self._atender(autorizacion[7:].strip(), cuerpo)
        await _responder(send, estado, respuesta, extra=extra)

    async def _dispositivo(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A tracker app's message (posiciones.dispositivos), bounded like the JSON API's."""
        try:
            cuerpo = await _cuerpo_leer(scope, receive, settings.POSICIONES_CUERPO_MAX_BYTES)
        except Desconectado:
            return
        except CuerpoDemasiadoGrande:
            await _responder(send, 413, _demasiado_grande(), cerrar=True)
            return
        cliente = scope.get("client")
        # A device is no user: its credential, its readings and its SOS are the ingest's own.
        with rls.usar(rls.INGESTA):
            estado, datos, cabeceras = await self.dispositivos.atender(
                scope["path"],
                query=scope.get("query_string", b""),
                cuerpo=cuerpo,
                tipo=cabecera(scope, b"content-type"),
                autorizacion=cabecera(scope, b"authorization"),
                ip=cliente[0] if cliente else None,
            )
        await _enviar(send, estado, datos, cabeceras)

    async def _atender(self, crudo: bytes, cuerpo: bytes) -> tuple[int, dict[str, Any], Cabeceras]:
        verificado = usuario_del_token(crudo)
        if verificado is None:
            return no_autenticado("El token no es válido o expiró.")
        usuario_id, huella = verificado
        try:
            actor, espera = await self._actor(usuario_id)
        except ServicioNoDisponible:
            return no_disponible()
        if espera is not None:
            return _limitado(espera)
        if (rechazo := actor_rechazo(actor, huella)) is not None:
            return rechazo
        assert actor is not None
        try:
            preparadas = ingesta.lecturas_preparar(ingesta.cuerpo_leer(cuerpo), actor=actor, ahora=timezone.now())
            resultado = await self.agrupador.registrar(preparadas.lecturas)
        except EntradaInvalida as exc:
            return 400, error_body(exc.codigo, exc.mensaje, exc.detalle), []
        except ServicioNoDisponible:
            return no_disponible()
        estado, respuesta = ingesta.respuesta_armar(preparadas, resultado)
        return estado, respuesta, []

    async def _actor(self, usuario_id: Any) -> tuple[Actor | None, int | None]:
        """The caller, from Redis when cached there; from PostgreSQL otherwise, also while Redis
        is down (readings are stored through a Redis outage: the event log is in PostgreSQL).
        In the same round trip, the request is counted against the user's LIMITE_POSICIONES
        (the seconds to wait if it is over, else None)."""
        if self.redis is None:
            self.redis = aioredis.from_url(  # type: ignore[no-untyped-call]
                settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        clave = clave_actor(usuario_id)
        limite = self.limite
        espera: int | None = None
        try:
            tubo = self.redis.pipeline(transaction=False)
            tubo.get(clave)
            if limite.cantidad:
                resta = limite.contar(tubo, "posiciones", usuario_id)
            respuestas = await tubo.execute()
        except (RedisError, OSError):
            crudo = None
            redis_ok = False
        else:
            crudo = respuestas[0]
            redis_ok = True
            if limite.cantidad:
                espera = limite.espera(respuestas[1], resta)
        if crudo is not None:
            return Actor.de_dict(orjson.loads(crudo)), espera
        return await actor_de_la_base(self.redis if redis_ok else None, usuario_id), espera


async def actor_de_la_base(redis: aioredis.Redis | None, usuario_id: Any) -> Actor | None:
    """The caller read from PostgreSQL, and cached in Redis (when given) for the next request of
    any lean path (readings here, dispatch in tareas.asgi)."""
    actor = await sync_to_async(_actor_leer, thread_sensitive=False)(usuario_id)
    if actor is not None and redis is not None:
        with contextlib.suppress(RedisError, OSError):
            await redis.set(clave_actor(usuario_id), orjson.dumps(actor.a_dict()), ex=settings.INGESTA_ACTOR_TTL_S)
    return actor


def actor_rechazo(actor: Actor | None, huella: str | None) -> tuple[int, dict[str, Any], Cabeceras] | None:
    """The 401 for a token whose user is gone or inactive, or that was issued before a password
    change (simplejwt's CHECK_REVOKE_TOKEN); None when the caller may go on."""
    if actor is None or not actor.activo:
        return no_autenticado("El usuario no existe o está inactivo.")
    if jwt_settings.CHECK_REVOKE_TOKEN and huella != actor.huella_clave:
        return no_autenticado("El token no es válido o expiró.")
    return None


# Verified tokens: raw bytes -> (expiry, user id, password fingerprint). Verification is a pure
# function of the bytes (signature, type) and the clock (expiry, re-checked on every hit), so
# remembering it is safe in any number of processes; a phone reuses one token for its whole
# lifetime (minutes). The fingerprint is compared with the caller's current one on every request.
_verificados: dict[bytes, tuple[float, Any, str | None]] = {}
_VERIFICADOS_MAX = 20_000


def usuario_del_token(crudo: bytes) -> tuple[Any, str | None] | None:
    conocido = _verificados.get(crudo)
    if conocido is not None and conocido[0] > time.time():
        return conocido[1], conocido[2]
    try:
        token = AccessToken(crudo.decode("latin-1"))  # type: ignore[arg-type]  # the stub omits str
    except TokenError:
        return None
    if len(_verificados) >= _VERIFICADOS_MAX:
        _verificados.clear()
    huella = token.get(jwt_settings.REVOKE_TOKEN_CLAIM)
    _verificados[crudo] = (float(token["exp"]), token[jwt_settings.USER_ID_CLAIM], huella)
    return token[jwt_settings.USER_ID_CLAIM], huella


def _actor_leer(usuario_id: Any) -> Actor | None:
    from django.db import InterfaceError, OperationalError, connection

    try:
        usuario = Usuario.objects.filter(pk=usuario_id).first()
        if usuario is None:
            return None
        with rls.usar(rls.de_usuario(usuario)):
            return actor_de(usuario)
    except (OperationalError, InterfaceError) as exc:
        raise ServicioNoDisponible("La base de datos no está disponible.") from exc
    except (ValueError, TypeError):  # a signed token whose user id is not an id
        return None
    finally:
        connection.close()


def _demasiado_grande() -> dict[str, Any]:
    return error_body(
        "cuerpo_demasiado_grande",
        f"El cuerpo supera el máximo de {settings.POSICIONES_CUERPO_MAX_BYTES} bytes.",
        {"maximo_bytes": settings.POSICIONES_CUERPO_MAX_BYTES},
    )


def no_autenticado(mensaje: str) -> tuple[int, dict[str, Any], Cabeceras]:
    return 401, error_body("autenticacion_fallida", mensaje), [(b"www-authenticate", b'Bearer realm="api"')]


def _limitado(espera: int) -> tuple[int, dict[str, Any], Cabeceras]:
    cuerpo = error_body(
        "demasiadas_solicitudes",
        "Demasiadas solicitudes de posiciones: reintente más tarde.",
        {"reintentar_en_s": espera},
    )
    return 429, cuerpo, [(b"retry-after", str(espera).encode())]


def no_disponible() -> tuple[int, dict[str, Any], Cabeceras]:
    espera = str(ServicioNoDisponible.reintentar_en_s).encode()
    cuerpo = error_body("servicio_no_disponible", "El servicio no está disponible; reintente en unos segundos.")
    return 503, cuerpo, [(b"retry-after", espera)]


async def _cuerpo_leer(scope: Scope, receive: Receive, maximo: int) -> bytes:
    """The whole body, refused as soon as it is known to exceed `maximo` (by Content-Length, or
    while it streams in): an oversized request is never held in memory."""
    largo = cabecera(scope, b"content-length")
    if largo is not None and (not largo.isdigit() or int(largo) > maximo):
        raise CuerpoDemasiadoGrande
    partes: list[bytes] = []
    total = 0
    while True:
        mensaje = await receive()
        if mensaje["type"] == "http.disconnect":
            raise Desconectado  # nobody to answer; nothing was stored
        parte = mensaje.get("body", b"")
        total += len(parte)
        if total > maximo:
            raise CuerpoDemasiadoGrande
        partes.append(parte)
        if not mensaje.get("more_body"):
            return b"".join(partes)


def _repetir(cuerpo: bytes, receive: Receive) -> Receive:
    """A `receive` that hands Django the body this app already read, then the real one (Django
    listens on it for the client going away)."""
    enviado = False

    async def repetido() -> dict[str, Any]:
        nonlocal enviado
        if not enviado:
            enviado = True
            return {"type": "http.request", "body": cuerpo, "more_body": False}
        return await receive()

    return repetido


async def _responder(
    send: Send, estado: int, cuerpo: dict[str, Any], *, extra: Cabeceras | None = None, cerrar: bool = False
) -> None:
    datos = orjson.dumps(cuerpo)
    cabeceras = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(datos)).encode()),
        (b"vary", b"Authorization"),
        (b"x-content-type-options", b"nosniff"),
        *(extra or ()),
    ]
    if cerrar:
        cabeceras.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": estado, "headers": cabeceras})
    await send({"type": "http.response.body", "body": datos})


async def _enviar(send: Send, estado: int, datos: bytes, cabeceras: Cabeceras) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": estado,
            "headers": [
                *cabeceras,
                (b"content-length", str(len(datos)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": datos})
