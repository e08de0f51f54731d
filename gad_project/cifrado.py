"""Encryption at rest of personal data (#30): DNI, Telegram ids, and the free text officers write
(SOS notes, rejection reasons, message bodies and replies).

- Values are encrypted with `cryptography`'s MultiFernet (AES-128-CBC + HMAC-SHA256, a random IV
  per value) under the keys of CIFRADO_CLAVES_FILE: the first encrypts, all of them decrypt, so a
  key is rotated by putting a new one first, re-encrypting (`manage.py cifrado_rotar`) and then
  retiring the old ones (`manage.py cifrado_rotar --retirar`).
- Where a value must be looked up or unique (a DNI, a Telegram id), the column also carries a keyed
  blind index, HMAC-SHA256 under the file's `indice:` key: `<index>$<token>`. An exact lookup
  compares the index (`split_part(column, '$', 1)`, itself indexed and unique), never the token.
- Geometries stay plain: the spatial indexes need them (row-level security protects them).

The key file (one per line):

    indice:<urlsafe base64 of 32 random bytes>
    <Fernet key: the one that encrypts>
    <older Fernet keys, still accepted for decryption>

A missing or malformed file stops start-up with a message naming it (gad_project.settings); a file
whose keys do not decrypt the stored data stops the servers (`verificar`, from asgi, Celery and
the bot), so nothing undecryptable is ever served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Lookup

SEPARADOR = "$"


class Claves:
    def __init__(self, indice: bytes, fernet: list[Fernet], textos: list[str]) -> None:
        self.indice = indice
        self.fernet = MultiFernet(fernet)
        self.primaria = fernet[0]
        self.textos = textos  # the Fernet keys as written, primary first


def leer_claves(ruta: str | Path) -> Claves:
    """The key file, validated: ImproperlyConfigured with a clear message otherwise."""
    archivo = Path(ruta)
    if not archivo.is_file():
        raise ImproperlyConfigured(
            f"CIFRADO_CLAVES_FILE: no existe {archivo}. Genérelo con `manage.py cifrado_clave_nueva --archivo "
            f"{archivo}` (make lo hace en una instalación nueva); sin él los datos personales no se pueden leer."
        )
    lineas = [linea.strip() for linea in archivo.read_text().splitlines() if linea.strip()]
    indice = [linea for linea in lineas if linea.startswith("indice:")]
    fernet_textos = [linea for linea in lineas if not linea.startswith("indice:")]
    if len(indice) != 1 or not fernet_textos:
        raise ImproperlyConfigured(
            f"CIFRADO_CLAVES_FILE ({archivo}): se esperan una línea `indice:<clave>` y al menos una clave Fernet."
        )
    try:
        clave_indice = base64.urlsafe_b64decode(indice[0].removeprefix("indice:"))
        fernet = [Fernet(t.encode()) for t in fernet_textos]
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"CIFRADO_CLAVES_FILE ({archivo}): clave mal formada ({exc}).") from exc
    if len(clave_indice) < 32:
        raise ImproperlyConfigured(f"CIFRADO_CLAVES_FILE ({archivo}): la clave del índice debe tener 32 bytes.")
    return Claves(clave_indice, fernet, fernet_textos)


def archivo_nuevo() -> str:
    """The text of a fresh key file."""
    return f"indice:{base64.urlsafe_b64encode(os.urandom(32)).decode()}\n{Fernet.generate_key().decode()}\n"


@lru_cache(maxsize=1)
def claves() -> Claves:
    from django.conf import settings

    return leer_claves(settings.CIFRADO_CLAVES_FILE)


def indice(valor: Any) -> str:
    """The keyed blind index of a value (its text, stripped)."""
    texto = str(valor).strip()
    return hmac.new(claves().indice, texto.encode(), hashlib.sha256).hexdigest()[:32]


def cifrar(valor: str) -> str:
    return claves().fernet.encrypt(valor.encode()).decode()


def descifrar(token: str) -> str:
    try:
        return claves().fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DatoIndescifrable(
            "Un dato cifrado no se pudo descifrar con las claves de CIFRADO_CLAVES_FILE (¿claves equivocadas?)."
        ) from exc


class DatoIndescifrable(ImproperlyConfigured):
    pass


# --- model fields ---------------------------------------------------------------------------------


class TextoCifrado(models.TextField):
    """Free text stored encrypted. The empty string stays empty (nothing to hide)."""

    con_indice = False

    def from_db_value(self, valor: str | None, expresion: Any, conexion: Any) -> Any:
        if valor is None or valor == "":
            return valor
        token = valor.split(SEPARADOR, 1)[1] if self.con_indice else valor
        return self.a_python(descifrar(token))

    def a_python(self, texto: str) -> Any:
        return texto

    def get_prep_value(self, valor: Any) -> Any:
        valor = super().get_prep_value(valor) if not self.con_indice else valor
        if valor is None or valor == "":
            return valor
        texto = str(valor)
        if self.con_indice:
            return f"{indice(texto)}{SEPARADOR}{cifrar(texto)}"
        return cifrar(texto)

    def to_python(self, valor: Any) -> Any:
        return valor


class IndiceCifrado(TextoCifrado):
    """An encrypted value with a blind index: `exact` and `in` lookups compare the index."""

    con_indice = True


class EnteroCifrado(IndiceCifrado):
    """An integer (a Telegram id) encrypted, with a blind index."""

    _pyi_private_set_type: int | None  # type: ignore[assignment]  # an int, not the TextField it is stored as
    _pyi_private_get_type: int | None  # type: ignore[assignment]

    def a_python(self, texto: str) -> Any:
        return int(texto)

    def to_python(self, valor: Any) -> Any:
        return None if valor in (None, "") else int(valor)


def expresion_indice(campo: str) -> models.Func:
    """The blind index of column `campo`, for unique constraints and indexes."""
    return models.Func(
        models.F(campo),
        models.Value(SEPARADOR),
        models.Value(1),
        function="split_part",
        output_field=models.TextField(),
    )


@IndiceCifrado.register_lookup
class IndiceIgual(Lookup):
    lookup_name = "exact"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"split_part({lhs}, '{SEPARADOR}', 1) = %s", (*lhs_params, indice(self.rhs))


@IndiceCifrado.register_lookup
class IndiceIgualSinMayusculas(IndiceIgual):
    lookup_name = "iexact"  # the admin's "=field" search: a blind index has no case to ignore


@IndiceCifrado.register_lookup
class IndiceEn(Lookup):
    lookup_name = "in"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"split_part({lhs}, '{SEPARADOR}', 1) = ANY(%s)", (*lhs_params, [indice(v) for v in self.rhs])


# --- what is encrypted, for the migration, the rotation and the start-up check ------------------

# (table, column, with a blind index)
COLUMNAS: list[tuple[str, str, bool]] = [
    ("efectivos_efectivo", "dni", True),
    ("efectivos_usuario", "telegram_id", True),
    ("mensajes_mensaje", "texto", False),
    ("mensajes_respuesta", "texto", False),
    ("tareas_asignacion", "motivo", False),
    ("tareas_tareaevento", "motivo", False),
    ("seguridad_sos", "nota", False),
]


def cifrar_columna(cursor: Any, tabla: str, columna: str, con_indice: bool, *, rotar: bool = False) -> int:
    """Encrypt the plain values of a column (or, with `rotar`, re-encrypt every value under the
    primary key); how many rows changed. In batches by primary key."""
    cambiadas = 0
    ultimo = 0
    while True:
        cursor.execute(
            f"SELECT id, {columna} FROM {tabla} WHERE id > %s AND {columna} IS NOT NULL AND {columna} <> '' "
            "ORDER BY id LIMIT 1000",
            [ultimo],
        )
        filas = cursor.fetchall()
        if not filas:
            return cambiadas
        nuevas = []
        for pk, valor in filas:
            ultimo = pk
            texto = str(valor)
            if _cifrado(texto, con_indice):
                if not rotar:
                    continue
                token = texto.split(SEPARADOR, 1)[1] if con_indice else texto
                plano = descifrar(token)
            else:
                plano = texto
            token = cifrar(plano)
            nuevas.append((pk, f"{indice(plano)}{SEPARADOR}{token}" if con_indice else token))
        if nuevas:
            cursor.executemany(f"UPDATE {tabla} SET {columna} = %s WHERE id = %s", [(v, pk) for pk, v in nuevas])
            cambiadas += len(nuevas)


def _cifrado(texto: str, con_indice: bool) -> bool:
    if con_indice:
        partes = texto.split(SEPARADOR, 1)
        return len(partes) == 2 and len(partes[0]) == 32 and partes[1].startswith("gAAAAA")
    return texto.startswith("gAAAAA")


def verificar() -> None:
    """Start-up check: the keys decrypt what is stored (one value of each column that has any),
    or DatoIndescifrable naming the column."""
    from django.db import connection

    from gad_project import rls

    # Every table's newest value, whoever's: a system read (row-level security), even in a web server.
    with rls.usar(rls.SISTEMA), connection.cursor() as cursor:
        for tabla, columna, con_indice in COLUMNAS:
            cursor.execute(f"SELECT {columna} FROM {tabla} WHERE {columna} <> '' ORDER BY id DESC LIMIT 1")
            fila = cursor.fetchone()
            if fila is None:
                continue
            texto = str(fila[0])
            token = texto.split(SEPARADOR, 1)[-1] if con_indice else texto
            try:
                claves().fernet.decrypt(token.encode())
            except InvalidToken as exc:
                raise DatoIndescifrable(
                    f"Las claves de CIFRADO_CLAVES_FILE no descifran {tabla}.{columna}: el servidor no arranca "
                    "para no servir datos ilegibles. Use el archivo de claves con que se cifraron."
                ) from exc


def operacion_cifrar(*columnas: tuple[str, str, bool]) -> Any:
    """A migration operation that encrypts the plain values already stored in these columns."""
    from django.db import migrations

    def adelante(apps: Any, schema_editor: Any) -> None:
        with schema_editor.connection.cursor() as cursor:
            for tabla, columna, con_indice in columnas:
                cifrar_columna(cursor, tabla, columna, con_indice)

    return migrations.RunPython(adelante, migrations.RunPython.noop, elidable=False)


def verificar_al_arrancar() -> None:
    """`verificar` at a server's start: in a thread of its own (an ASGI server may import the
    application inside its event loop, where Django refuses database calls). Keys that do not
    decrypt stop the start; an unreachable database does not (nothing can be served from it
    anyway, and /health/ready says so)."""
    import logging
    import threading

    from django.db import DatabaseError, connection

    errores: list[BaseException] = []

    def correr() -> None:
        try:
            verificar()
        except DatoIndescifrable as exc:
            errores.append(exc)
        except DatabaseError as exc:
            logging.getLogger(__name__).warning("Claves de cifrado no verificadas: base inaccesible (%s)", exc)
        finally:
            connection.close()

    hilo = threading.Thread(target=correr, name="cifrado-verificar")
    hilo.start()
    hilo.join()
    if errores:
        raise errores[0]
