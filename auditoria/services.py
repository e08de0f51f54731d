"""The audit chain: verification and the retention sweep (the chain itself is kept by the
database triggers of migration 0001)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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
    return Verificacion(n, None, "")


def podar(*, dias: int | None = None) -> int:
    """Delete the records older than AUDITORIA_RETENCION_DIAS, oldest first, and move the anchor
    to the last one deleted, so the chain that remains still verifies from its first record."""
    limite = timezone.now() - timedelta(days=dias if dias is not None else settings.AUDITORIA_RETENCION_DIAS)
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT set_config('auditoria.podar', 'si', true)")
        c.execute(
            "SELECT secuencia, hash FROM auditoria_registro WHERE timestamp < %s ORDER BY secuencia DESC LIMIT 1",
            [limite],
        )
        ultimo = c.fetchone()
        if ultimo is None:
            return 0
        c.execute("DELETE FROM auditoria_registro WHERE secuencia <= %s", [ultimo[0]])
        borrados = c.rowcount
        c.execute(
            "INSERT INTO auditoria_ancla (id, secuencia, hash, podada_en) VALUES (1, %s, %s, now()) "
            "ON CONFLICT (id) DO UPDATE SET secuencia = EXCLUDED.secuencia, hash = EXCLUDED.hash, podada_en = now()",
            [ultimo[0], ultimo[1]],
        )
    return borrados
