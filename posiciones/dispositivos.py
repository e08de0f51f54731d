"""`/ingreso/osmand/` (Traccar Client) and `/ingreso/owntracks/`: the phones' tracker apps, on the
lean path and the same group commit as the JSON API (posiciones.asgi), so every reading gets what
any other gets: plausibility, the geofences, events.

These apps resend a message until they get a 2xx, holding back everything queued behind it. So a
message that can never be accepted (out of range, too old, unreadable time) is answered 2xx, not
stored, counted (`gad_dispositivos_rechazadas_total`) and recorded on the device with its reason.
Only the credential decides a 4xx: unknown or missing, 401 (the app keeps its buffer until it is
fixed: nothing is lost); a revoked device, or one whose user or efectivo record is deactivated,
403, recorded in the audit trail."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from redis.exceptions import RedisError

from efectivos.alcance import Alcance, clave_dispositivo
from efectivos.models import Dispositivo, TipoDispositivo
from efectivos.services import credencial_hash
from gad_project.api.errors import error_body
from gad_project.asgi_util import Cabeceras
from gad_project.exceptions import EntradaInvalida, ServicioNoDisponible
from posiciones import metrics, protocolos
from posiciones.agrupador import Agrupador
from posiciones.lecturas import lectura_validar
from posiciones.protocolos import FormatoInvalido, Reporte
from posiciones.services import LecturaNueva

logger = logging.getLogger(__name__)

RUTA_OSMAND = "/ingreso/osmand/"
RUTA_OWNTRACKS = "/ingreso/owntracks/"
RUTAS = {RUTA_OSMAND: TipoDispositivo.TRACCAR, RUTA_OWNTRACKS: TipoDispositivo.OWNTRACKS}
PEDIR_UBICACION = [{"_type": "cmd", "action": "reportLocation"}]

Respuesta = tuple[int, bytes, Cabeceras]


@dataclass(frozen=True)
class Vigente:
    """A device as the ingest needs it, cached in Redis by its credential's hash."""

    id: int
    tipo: str
    usuario: str | None  # OwnTracks' Basic user name
    efectivo_id: int
    usuario_id: int | None  # the efectivo's user account (for an SOS)
    habilitado: bool  # not revoked, and its user (if any) active
    pedir_ubicacion: bool  # OwnTracks: a commander asked for its position and it was not sent yet


def _vigente_leer(hash_: str) -> Vigente | None:
    try:
        fila = (
            Dispositivo.objects.filter(credencial_hash=hash_)
            .values_list(
                "id",
                "tipo",
                "usuario",
                "efectivo_id",
                "efectivo__usuario_id",
                "revocado_en",
                "efectivo__usuario__is_active",
                "ubicacion_pedida_en",
                "ubicacion_pedida_enviada_en",
            )
            .first()
        )
    except (OperationalError, InterfaceError) as exc:
        raise ServicioNoDisponible("La base de datos no está disponible.") from exc
    finally:
        connection.close()
    if fila is None:
        return None
    did, tipo, usuario, efectivo_id, usuario_id, revocado, activo, pedida, enviada = fila
    return Vigente(
        id=did,
        tipo=tipo,
        usuario=usuario,
        efectivo_id=efectivo_id,
        usuario_id=usuario_id,
        habilitado=revocado is None and activo is not False,
        pedir_ubicacion=pedida is not None and enviada is None,
    )


def _rechazo_auditar(vigente: Vigente, direccion: str | None) -> None:
    from django.contrib.auth.models import AnonymousUser

    from auditoria.models import Interfaz
    from auditoria.registro import acceso

    try:
        dispositivo = Dispositivo.objects.get(pk=vigente.id)
        acceso(
            usuario=AnonymousUser(),  # the device is no user: the record names the device
            objeto=dispositivo,
            que="envío rechazado: dispositivo revocado o usuario inactivo",
            interfaz=Interfaz.EQUIPO,
            direccion=direccion,
        )
    finally:
        connection.close()


def _sin_lectura_registrar(
    dispositivo_id: int, motivo: str, bateria: float | None, cargando: bool | None, *, enviado: bool
) -> None:
    """Contact without a stored reading (a rejection, a heartbeat without a fix, another message
    type), and whether a reportLocation just went out."""
    try:
        with connection.cursor() as c:
            c.execute(
                "UPDATE efectivos_dispositivo SET ultimo_contacto_en = now(), "
                "bateria_pct = coalesce(%s, bateria_pct), cargando = coalesce(%s, cargando), "
                "ultimo_rechazo = CASE WHEN %s <> '' THEN %s ELSE ultimo_rechazo END, "
                "ultimo_rechazo_en = CASE WHEN %s <> '' THEN now() ELSE ultimo_rechazo_en END, "
                "ubicacion_pedida_enviada_en = CASE WHEN %s THEN now() ELSE ubicacion_pedida_enviada_en END "
                "WHERE id = %s",
                [bateria, cargando, motivo, motivo[:200], motivo, enviado, dispositivo_id],
            )
    except (OperationalError, InterfaceError) as exc:
        raise ServicioNoDisponible("La base de datos no está disponible.") from exc
    finally:
        connection.close()


def _sos_activar(usuario_id: int, lectura: LecturaNueva | None) -> None:
    from efectivos.models import Usuario
    from seguridad.models import FuenteSos
    from seguridad.services import sos_activar

    try:
        sos_activar(
            usuario=Usuario.objects.get(pk=usuario_id),
            lat=lectura.lat if lectura else None,
            lon=lectura.lon if lectura else None,
            precision_m=lectura.precision_m if lectura else None,
            fuente=FuenteSos.EQUIPO,
        )
    finally:
        connection.close()


def _basic(valor: bytes | None) -> tuple[str, str] | None:
    if not valor or valor[:6].lower() != b"basic ":
        return None
    try:
        usuario, _, clave = base64.b64decode(valor[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (usuario, clave) if usuario and clave else None


def _vacia(estado: int) -> Respuesta:
    return estado, b"", [(b"content-type", b"text/plain; charset=utf-8")]


def _json(estado: int, cuerpo: Any, extra: Cabeceras | None = None) -> Respuesta:
    return estado, orjson.dumps(cuerpo), [(b"content-type", b"application/json"), *(extra or [])]


class IngresoDispositivos:
    def __init__(self, agrupador: Agrupador) -> None:
        self.agrupador = agrupador
        self.redis: aioredis.Redis | None = None

    async def atender(
        self, ruta: str, *, query: bytes, cuerpo: bytes, tipo: bytes | None, autorizacion: bytes | None, ip: str | None
    ) -> Respuesta:
        owntracks = RUTAS[ruta] == TipoDispositivo.OWNTRACKS
        no_autenticado = _json(
            401,
            error_body("autenticacion_fallida", "Dispositivo no reconocido."),
            [(b"www-authenticate", b'Basic realm="gad"')] if owntracks else None,
        )
        usuario: str | None = None
        secreto: str | None = None
        if owntracks:
            par = _basic(autorizacion)
            if par is None:
                return no_autenticado
            usuario, secreto = par
        try:
            if owntracks:
                reporte = protocolos.owntracks_leer(cuerpo)
                reportes = [reporte] if reporte else []
            else:
                reportes = protocolos.osmand_leer(query, cuerpo, tipo)
                secreto = next((r.credencial for r in reportes if r.credencial), None)
        except FormatoInvalido as exc:
            if secreto is None:  # OsmAnd: the credential is in the body that could not be read
                return no_autenticado
            # OwnTracks, authenticated: acknowledged and recorded like any reading that can never
            # be accepted, so the phone's queue moves on.
            reportes, ilegible = [], f"cuerpo ilegible: {exc}"
        else:
            ilegible = ""
        if secreto is None:
            return no_autenticado
        try:
            vigente = await self._vigente(credencial_hash(secreto))
        except ServicioNoDisponible:
            return _json(503, error_body("servicio_no_disponible", "Reintente en unos segundos."))
        if vigente is None or vigente.tipo != RUTAS[ruta] or (owntracks and vigente.usuario != usuario):
            return no_autenticado
        if not vigente.habilitado:
            await sync_to_async(_rechazo_auditar, thread_sensitive=False)(vigente, ip)
            return _json(403, error_body("dispositivo_revocado", "El dispositivo fue dado de baja."))
        try:
            return await self._registrar(vigente, reportes, owntracks=owntracks, secreto=secreto, ilegible=ilegible)
        except ServicioNoDisponible:
            return _json(503, error_body("servicio_no_disponible", "Reintente en unos segundos."))

    async def _registrar(
        self, vigente: Vigente, reportes: list[Reporte], *, owntracks: bool, secreto: str, ilegible: str = ""
    ) -> Respuesta:
        ahora = timezone.now()
        lecturas: list[LecturaNueva] = []
        motivos: list[str] = [ilegible] if ilegible else []
        alarma = False
        bateria: float | None = None
        cargando: bool | None = None
        for r in reportes:
            if r.credencial not in (None, secreto):
                motivos.append("otro dispositivo en el mismo envío")
                continue
            alarma = alarma or (r.alarma or "").lower() == "sos"
            bateria = r.bateria_pct if r.bateria_pct is not None else bateria
            cargando = r.cargando if r.cargando is not None else cargando
            lectura = self._lectura(vigente, r, ahora, motivos)
            if lectura is not None:
                lecturas.append(lectura)
        if motivos:
            metrics.DISPOSITIVOS_RECHAZADAS.labels(protocolo=vigente.tipo).inc(len(motivos))
        if lecturas:
            try:
                await self.agrupador.registrar(lecturas)
            except EntradaInvalida:
                # The efectivo was deleted since the device was cached: the device is gone too.
                return _json(401, error_body("autenticacion_fallida", "Dispositivo no reconocido."))
        enviar = owntracks and vigente.pedir_ubicacion
        if motivos or not lecturas or enviar:
            await sync_to_async(_sin_lectura_registrar, thread_sensitive=False)(
                vigente.id, "; ".join(motivos)[:200], bateria, cargando, enviado=enviar
            )
        if enviar:
            await self._olvidar(credencial_hash(secreto))  # sent now: the next answer reads it again
        if alarma and vigente.usuario_id is not None:
            await sync_to_async(_sos_activar, thread_sensitive=False)(
                vigente.usuario_id, lecturas[-1] if lecturas else None
            )
        if owntracks:
            return _json(200, PEDIR_UBICACION if enviar else [])
        return _vacia(200)

    @staticmethod
    def _lectura(vigente: Vigente, r: Reporte, ahora: datetime, motivos: list[str]) -> LecturaNueva | None:
        if r.lectura is None:
            if r.motivo and r.motivo != "sin posición":
                motivos.append(r.motivo)
            return None
        item = {**r.lectura, "id_cliente": protocolos.id_cliente(vigente.id, r.lectura["registrada_en"])}
        validada, errores = lectura_validar(
            item,
            ahora=ahora,
            futuro_max=timedelta(seconds=settings.POSICIONES_FUTURO_MAX_S),
            antiguedad_max=timedelta(hours=settings.POSICIONES_ANTIGUEDAD_MAX_H),
        )
        if validada is None:
            motivos.append("; ".join(f"{campo}: {texto}" for campo, texto in sorted(errores.items())))
            return None
        return LecturaNueva(
            id_cliente=validada.id_cliente,
            efectivo_id=vigente.efectivo_id,
            lat=validada.lat,
            lon=validada.lon,
            registrada_en=validada.registrada_en,
            precision_m=validada.precision_m,
            velocidad_kmh=validada.velocidad_kmh,
            rumbo=validada.rumbo,
            alcance=Alcance(efectivo_id=vigente.efectivo_id),  # its own efectivo, whatever it sends
            fuente=vigente.tipo,
            dispositivo_id=vigente.id,
            bateria_pct=r.bateria_pct,
            cargando=r.cargando,
        )

    def _conexion(self) -> aioredis.Redis:
        if self.redis is None:
            self.redis = aioredis.from_url(  # type: ignore[no-untyped-call]
                settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        return self.redis

    async def _vigente(self, hash_: str) -> Vigente | None:
        """From Redis when cached; from PostgreSQL otherwise (also while Redis is down)."""
        clave = clave_dispositivo(hash_)
        redis_ok = True
        try:
            crudo = await self._conexion().get(clave)
        except (RedisError, OSError):
            crudo, redis_ok = None, False
        if crudo is not None:
            datos = orjson.loads(crudo)
            return Vigente(**datos) if datos else None
        vigente = await sync_to_async(_vigente_leer, thread_sensitive=False)(hash_)
        if redis_ok:
            # An unknown credential is remembered briefly too: a phone retrying with a wrong id
            # must not cost a query each time. A device created later has another hash.
            with contextlib.suppress(RedisError, OSError):
                await self._conexion().set(
                    clave,
                    orjson.dumps(asdict(vigente) if vigente else None),
                    # An unknown credential is remembered only briefly: a device created later
                    # has another hash, but a typo fixed in the app should work soon.
                    ex=settings.DISPOSITIVO_CACHE_TTL_S if vigente else settings.INGESTA_ACTOR_TTL_S,
                )
        return vigente

    async def _olvidar(self, hash_: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._conexion().delete(clave_dispositivo(hash_))
