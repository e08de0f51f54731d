"""The audit chain: verification and the retention sweep (the chain itself is kept by the
database triggers of migration 0001)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

CERO = "0" * 64

# The same expression as the trigger: sha256(anterior ‖ secuencia ‖ the row as jsonb without its
# chain columns and its timestamp ‖ the timestamp as epoch). Timestamps go as epoch so the text
# does not depend on the session's time zone. Records are sealed when their transaction commits.
_SQL_VERIFICAR = """
SELECT r.id, r.secuencia, r.anterior, r.hash,
       encode(sha256(convert_to(
           r.anterior || r.secuencia::text
           || (to_jsonb(r) - 'hash' - 'anterior' - 'secuencia' - 'timestamp')::text
           || extract(epoch FROM r.timestamp)::text, 'UTF8')), 'hex')
FROM auditoria_registro r
WHERE r.secuencia IS NOT NULL
ORDER BY r.secuencia
"""


@dataclass(frozen=True)
class Verificacion:
    registros: int
    roto_id: int | None  # the first record that does not match (None: the chain is whole)
    motivo: str


def cadena_verificar() -> Verificacion:
    """Walk the chain in order: every record's hash must be the hash of its content and its
    predecessor's hash, and the numbering must have no gaps (a deleted record)."""
    with connection.cursor() as c:
        c.execute("SELECT hash, secuencia FROM auditoria_ancla WHERE id = 1")
        ancla = c.fetchone()
    previo, esperado = (ancla[0], ancla[1] + 1) if ancla else (CERO, 1)
    n = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(_SQL_VERIFICAR)
        while bloque := cursor.fetchmany(5000):
            for id_, secuencia, anterior, hash_, calculado in bloque:
                n += 1
                if secuencia != esperado:
                    return Verificacion(n, id_, f"falta el registro n.º {esperado} de la cadena (borrado)")
                if anterior != previo:
                    return Verificacion(n, id_, "no enlaza con el registro anterior")
                if calculado != hash_:
                    return Verificacion(n, id_, "su contenido no coincide con su hash (fue alterado)")
                previo, esperado = hash_, esperado + 1
    anclada = ultima_ancla()
    if anclada is not None:
        with connection.cursor() as c:
            c.execute("SELECT id, hash FROM auditoria_registro WHERE secuencia = %s", [anclada.secuencia])
            fila = c.fetchone()
        if fila is None and anclada.secuencia > esperado - 1:
            return Verificacion(
                n,
                None,
                f"faltan los registros más nuevos: la cabeza anclada es el n.º {anclada.secuencia}, "
                f"la cadena termina en el {esperado - 1}",
            )
        if fila is not None and fila[1] != anclada.hash:
            return Verificacion(n, fila[0], "no coincide con la cabeza anclada fuera de la base (fue reemplazado)")
    return Verificacion(n, None, "")


def podar(*, dias: int | None = None) -> int:
    """Delete the records older than AUDITORIA_RETENCION_DIAS, oldest first, and move the anchor
    to the last one deleted, so the chain that remains still verifies from its first record. Done
    by the database function `auditoria_podar` (auditoria migration 0002), which runs with its
    owner's rights: the app's runtime role has no DELETE on the trail."""
    limite = timezone.now() - timedelta(days=dias if dias is not None else settings.AUDITORIA_RETENCION_DIAS)
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT auditoria_podar(%s)", [limite])
        return int(c.fetchone()[0])


# --- the head, anchored outside the table ---------------------------------------------------------
# The chain proves that nothing inside it changed and that nothing is missing between its ends; it
# cannot tell that its newest records were removed (the head simply moves back). So the head
# (number and hash) is appended periodically to a file outside the database (AUDITORIA_ANCLAS):
# what the app's database role can do cannot rewrite it. Verification then requires every head
# ever anchored to be still in the chain, with the same hash.


@dataclass(frozen=True)
class Cabeza:
    secuencia: int
    hash: str


def archivo_anclas() -> Path:
    """AUDITORIA_ANCLAS, or one file per database under .run/ (a test database is not make run's)."""
    if settings.AUDITORIA_ANCLAS:
        return Path(settings.AUDITORIA_ANCLAS)
    return Path(settings.BASE_DIR) / ".run" / "auditoria" / f"anclas-{connection.settings_dict['NAME']}.log"


def cabeza_actual() -> Cabeza | None:
    with connection.cursor() as c:
        c.execute(
            "SELECT secuencia, hash FROM auditoria_registro WHERE secuencia IS NOT NULL ORDER BY secuencia DESC LIMIT 1"
        )
        fila = c.fetchone()
    return Cabeza(fila[0], fila[1]) if fila else None


def cabeza_anclar() -> Cabeza | None:
    """Append the chain's current head to the anchor file (one line: time, number, hash)."""
    cabeza = cabeza_actual()
    if cabeza is None:
        return None
    ruta = archivo_anclas()
    ruta.parent.mkdir(parents=True, exist_ok=True)
    with ruta.open("a", encoding="utf-8") as f:
        f.write(f"{timezone.now().isoformat()} {cabeza.secuencia} {cabeza.hash}\n")
        f.flush()
        os.fsync(f.fileno())
    return cabeza


def ultima_ancla() -> Cabeza | None:
    ruta = archivo_anclas()
    if not ruta.exists():
        return None
    ultima = None
    with ruta.open(encoding="utf-8") as f:
        for linea in f:
            partes = linea.split()
            if len(partes) == 3 and partes[1].isdigit():
                ultima = Cabeza(int(partes[1]), partes[2])
    return ultima
