"""WebSocket /ws/eventos/?desde=<id>[&ticket=<t>]: authorizes, joins the user's groups, replays
what the client missed from PostgreSQL, then relays live events. It never writes to the database
and never broadcasts: `realtime.publish` is the only source of events."""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections import OrderedDict
from urllib.parse import parse_qs, urlparse

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http.request import validate_host
from redis.exceptions import RedisError

from efectivos.models import Usuario
from efectivos.selectors import rol_de
from gad_project import rls
from gad_project.bd import conexiones_revisar
from realtime import grupos, latido, metrics, selectors, tickets
from realtime.services import frame

logger = logging.getLogger(__name__)
# The events a commander must see at once: their stage timestamps are logged under REALTIME_TRAZA.
_TRAZADOS = frozenset({"alerta.geocerca", "alerta.repetida", "alerta.escalada", "sos.activado", "tarea.asignada"})

# Close codes (4000-4999 are the application's). Clients reconnect with ?desde=<last id> after
# any of them except 4401/4403, which need new credentials.
NO_AUTENTICADO = 4401
PROHIBIDO = 4403
SIN_LATIDO = 4408
DEMASIADO_LENTO = 4429
CAPA_CAIDA = 4503  # Redis or PostgreSQL unavailable: retry with backoff; replay fills the gap

_ERRORES_CAPA = (RedisError, ConnectionError)
_ERRORES_BD = (OperationalError, InterfaceError)


async def _bd(funcion, *args, **kwargs):
    """A database call from a socket, retried once: after a PostgreSQL restart the pool may hand
    out a connection that died with it, which the first failure discards (channels closes
    unusable connections around every call)."""
    try:
        return await database_sync_to_async(funcion)(*args, **kwargs)
    except _ERRORES_BD:
        await database_sync_to_async(conexiones_revisar)()
        return await database_sync_to_async(funcion)(*args, **kwargs)


MAX_ORIGENES = 1000  # (sender, group) pairs a socket remembers


def origen_propio(origen: str, host: str, *, seguro: bool) -> bool:
    """The page that opens the socket must come from the very origin it connects to — scheme
    (https exactly when the connection is secure), host and port — with the host in
    ALLOWED_HOSTS; or be listed in CSRF_TRUSTED_ORIGINS."""
    if not origen:
        return False
    if origen in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        o, h = urlparse(origen), urlparse(f"//{host}")
        o_puerto, h_puerto = o.port, h.port
    except ValueError:
        return False
    # A plain page opens ws://, a secure one wss:// (the TLS proxy says so in X-Forwarded-Proto).
    if o.scheme != ("https" if seguro else "http") or not o.hostname:
        return False
    defecto = 443 if o.scheme == "https" else 80
    nombre = f"[{o.hostname}]" if ":" in o.hostname else o.hostname  # as ALLOWED_HOSTS writes IPv6
    return (
        validate_host(nombre, settings.ALLOWED_HOSTS)
        and o.hostname == h.hostname
        and (o_puerto or defecto) == (h_puerto or defecto)
    )


def _acceso_releer(usuario_id: int) -> tuple[str | None, list[str], rls.Contexto | None] | None:
    """The user's role, groups and database context as they are now; None if the user is gone or
    deactivated."""
    usuario = Usuario.objects.filter(pk=usuario_id, is_active=True).first()
    if usuario is None:
        return None
    contexto = rls.de_usuario(usuario)
    with rls.usar(contexto):
        return rol_de(usuario), grupos.de_usuario(usuario), contexto


class EventosConsumer(AsyncWebsocketConsumer):
    usuario_id: int | None = None
    rol = None
    grupos: list[str] = []
    # The user's and the browser session's own groups: control messages only (realtime.grupos).
    grupos_control: list[str] = []
    cerrado = False

    async def connect(self) -> None:
        self.enviados: OrderedDict[int, None] = OrderedDict()  # recent ids: no frame twice
        # (sender, group) -> last sequence number seen; the first message of each only sets it.
        self.secuencias: OrderedDict[tuple[str, str | None], int] = OrderedDict()
        self.esperando_pong_desde: float | None = None
        params = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            if self.scope.get("gad_bd_caida"):
                raise OperationalError("the session's user could not be read")
            usuario = await self._autenticar(params)
            # This socket's statements run under its user's context (row-level security).
            rls.fijar(rls.de_usuario(usuario))
            if usuario is not None:
                self.grupos = await _bd(grupos.de_usuario, usuario)
        except _ERRORES_BD:
            # Accepted to be closed with a code the client understands (retry later), instead of
            # a handshake refused with HTTP 500.
            metrics.ERRORES.inc()
            await self.accept()
            await self.close(code=CAPA_CAIDA)
            return
        if usuario is None:
            await self.close(code=NO_AUTENTICADO)  # before accept: the handshake is refused
            return
        if not self.grupos:
            await self.close(code=PROHIBIDO)
            return
        # Deactivation, a new role, unidad or password, and signing out reach the socket here.
        session_key = getattr(self.scope.get("session"), "session_key", None) if not params.get("ticket") else None
        self.grupos_control = [grupos.usuario(usuario.pk), *([grupos.sesion(session_key)] if session_key else [])]
        try:
            desde = int(params.get("desde", [""])[0] or -1)
        except ValueError:
            desde = -1
        await self.accept()
        try:
            # Join first, then replay: anything published meanwhile is both queued live and maybe
            # replayed, and `enviados` drops the second copy. Nothing falls between the two.
            for grupo in [*self.grupos_control, *self.grupos]:
                await self.channel_layer.group_add(grupo, self.channel_name)
        except _ERRORES_CAPA:
            metrics.ERRORES.inc()
            await self.close(code=CAPA_CAIDA)
            return
        # Renewal is spread over the interval so a process does not renew every socket at once.
        self.grupos_renovados = time.monotonic() - random.uniform(0, settings.WS_GRUPOS_RENOVAR_S)
        self.rol = rol_de(usuario)
        # Authorized: keep ids and groups only. The user object and the session store would
        # otherwise stay referenced from the scope for the socket's lifetime (memory per socket).
        self.usuario_id = usuario.pk
        self.scope.pop("session", None)
        self.scope["user"] = None
        metrics.CONEXIONES_TOTAL.inc()
        metrics.CONEXIONES.labels(rol=self.rol).inc()
        if desde >= 0:
            await self._reproducir(desde)
        else:
            await self._enviar_texto(
                orjson.dumps({"tipo": "hola", "datos": {"ultimo_id": await _bd(selectors.ultimo_id)}})
            )
        latido.registrar(self)

    async def _autenticar(self, params: dict):
        ticket = params.get("ticket", [""])[0]
        if ticket:
            return await database_sync_to_async(tickets.ticket_canjear)(ticket=ticket)
        usuario = self.scope.get("user")
        if usuario is None or not usuario.is_authenticated:
            return None
        # A session cookie rides along on any cross-site request: only our own pages may use it.
        cabeceras = dict(self.scope.get("headers", []))
        origen = cabeceras.get(b"origin", b"").decode("latin-1")
        seguro = self.scope.get("scheme") == "wss" or cabeceras.get(b"x-forwarded-proto", b"") == b"https"
        if not origen_propio(origen, cabeceras.get(b"host", b"").decode("latin-1"), seguro=seguro):
            logger.info("websocket refused: origin %r not allowed", origen)
            return None
        return usuario

    async def _reproducir(self, desde: int) -> None:
        rep = await _bd(selectors.eventos_reproducir, grupos=self.grupos, desde=desde, limite=settings.WS_REPLAY_MAX)
        if rep.resync:
            await self._enviar_texto(orjson.dumps({"tipo": "resync"}))
            return
        for evento in rep.eventos:
            await self._enviar_frame(frame(evento))
        metrics.REPRODUCIDOS.inc(len(rep.eventos))

    async def acceso_revisar(self, message: dict) -> None:
        """The user's access changed (realtime.services.sockets_revisar): close the socket, or move
        it to the groups the new role or unidad gives, and have the client reload its snapshot."""
        if self.cerrado or self.usuario_id is None:
            return
        ahora = None if message.get("cerrar") else await database_sync_to_async(_acceso_releer)(self.usuario_id)
        if ahora is None:
            await self._cerrar(NO_AUTENTICADO)
            return
        rol, nuevos, contexto = ahora
        rls.fijar(contexto)
        if not nuevos:
            await self._cerrar(PROHIBIDO)
            return
        if nuevos == self.grupos and rol == self.rol:
            return
        for grupo in set(self.grupos) - set(nuevos):
            await self.channel_layer.group_discard(grupo, self.channel_name)
        for grupo in set(nuevos) - set(self.grupos):
            await self.channel_layer.group_add(grupo, self.channel_name)
        self.grupos = nuevos
        if rol != self.rol:
            metrics.CONEXIONES.labels(rol=self.rol).dec()
            metrics.CONEXIONES.labels(rol=rol).inc()
            self.rol = rol
        await self._enviar_texto(orjson.dumps({"tipo": "resync"}))

    async def _cerrar(self, codigo: int) -> None:
        """Closed by the server for access: out of every group now, so nothing more is relayed
        between this close and the disconnect that follows it."""
        self.cerrado = True
        latido.quitar(self)
        for grupo in [*self.grupos_control, *self.grupos]:
            with contextlib.suppress(*_ERRORES_CAPA):
                await self.channel_layer.group_discard(grupo, self.channel_name)
        await self.close(code=codigo)

    async def eventos_enviar(self, message: dict) -> None:
        """Live events from the channel layer (realtime.emisor groups them per batch). A jump in
        the sender's sequence for this group means messages were lost on the way (the channel
        layer drops what a slow socket cannot take, a failed send never arrives): the client
        reloads its snapshot, as for a gap too large to replay, and this message's frames follow."""
        if self.cerrado:
            return
        recibido = time.time()
        if self._hueco(message.get("origen"), message.get("grupo"), message.get("seq")):
            metrics.HUECOS.inc()
            await self._enviar_texto(orjson.dumps({"tipo": "resync"}))
        for f in message["eventos"]:
            await self._enviar_frame(f)
        escrito = time.time()
        enviado, a_capa = message.get("enviado"), message.get("a_capa")
        if enviado:
            metrics.ENTREGA.observe(max(0.0, escrito - enviado))
        if a_capa:
            metrics.ETAPA.labels(etapa="capa").observe(max(0.0, recibido - a_capa))
        metrics.ETAPA.labels(etapa="socket").observe(escrito - recibido)
        if settings.REALTIME_TRAZA:
            for f in message["eventos"]:
                if f.get("tipo") in _TRAZADOS:
                    logger.info(
                        "traza evento=%s tipo=%s socket=%s commit=%.6f a_capa=%.6f recibido=%.6f escrito=%.6f",
                        f.get("id"),
                        f.get("tipo"),
                        self.channel_name,
                        enviado or 0,
                        a_capa or 0,
                        recibido,
                        escrito,
                    )

    def _hueco(self, origen: str | None, grupo: str | None, seq: int | None) -> bool:
        if origen is None or seq is None:
            return False
        clave = (origen, grupo)
        previo = self.secuencias.pop(clave, None)
        self.secuencias[clave] = seq
        if len(self.secuencias) > MAX_ORIGENES:  # senders of restarted processes: forget the oldest
            self.secuencias.popitem(last=False)
        return previo is not None and seq > previo + 1

    async def _enviar_frame(self, f: dict) -> None:
        if f["id"] in self.enviados:
            return
        self.enviados[f["id"]] = None
        if len(self.enviados) > settings.WS_DEDUP_IDS:
            self.enviados.popitem(last=False)
        await self._enviar_texto(orjson.dumps(f))

    async def _enviar_texto(self, datos: bytes) -> None:
        await self.send(text_data=datos.decode())
        metrics.FRAMES.inc()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            mensaje = orjson.loads(text_data or bytes_data or b"")
        except orjson.JSONDecodeError:
            mensaje = None
        tipo = mensaje.get("tipo") if isinstance(mensaje, dict) else None
        if tipo in ("pong", "ack"):
            self.esperando_pong_desde = None  # any answer proves the client is reading
            return
        await self._enviar_texto(
            orjson.dumps(
                {"tipo": "error", "datos": {"mensaje": 'Se esperaba {"tipo": "pong"} o {"tipo": "ack", "id": N}.'}}
            )
        )

    async def latir(self, ahora: float) -> None:
        """Called every WS_PING_S by the process's heartbeat loop. A client that has not answered
        the previous ping within WS_PONG_TIMEOUT_S is gone, or too slow to read its frames: close
        it (it resumes by replay)."""
        if self.esperando_pong_desde and ahora - self.esperando_pong_desde > settings.WS_PONG_TIMEOUT_S:
            metrics.CIERRES_LENTOS.inc()
            latido.quitar(self)
            await self.close(code=SIN_LATIDO)
            return
        if self.esperando_pong_desde is None:
            self.esperando_pong_desde = ahora
        await self._enviar_texto(orjson.dumps({"tipo": "ping", "ts": time.time()}))

    async def renovar_grupos(self, ahora: float) -> None:
        """Memberships expire (group_expiry) so that dead processes' sockets fall out of groups;
        a live socket renews its own."""
        if ahora - self.grupos_renovados < settings.WS_GRUPOS_RENOVAR_S:
            return
        self.grupos_renovados = ahora
        for grupo in [*self.grupos_control, *self.grupos]:
            await self.channel_layer.group_add(grupo, self.channel_name)

    async def disconnect(self, code: int) -> None:
        latido.quitar(self)
        if self.rol is not None:
            metrics.CONEXIONES.labels(rol=self.rol).dec()
        for grupo in [*self.grupos_control, *self.grupos]:
            try:
                await self.channel_layer.group_discard(grupo, self.channel_name)
            except _ERRORES_CAPA:
                break  # membership expires by itself in Redis

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except (*_ERRORES_CAPA, *_ERRORES_BD) as exc:
            logger.warning("closing socket, channel layer or database failed: %r", exc, exc_info=True)
            # The channel layer failed under a live socket (Redis stopped): tell the client to
            # reconnect; its replay from PostgreSQL fills whatever was not delivered.
            metrics.ERRORES.inc()
            await self.disconnect(CAPA_CAIDA)
            with contextlib.suppress(Exception):  # the socket may already be gone
                await send({"type": "websocket.close", "code": CAPA_CAIDA})
