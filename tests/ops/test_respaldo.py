"""Backup and point-in-time restore with the project's own script (scripts/respaldo.sh, on
pgBackRest), on a PostgreSQL cluster of its own: write, note the time, write more, restore to the
noted time into a fresh cluster, and find exactly the first writes, and no personal data in clear
in what the backup held. The RPO (how long a committed write waits to be archived) and the RTO
(how long the restore takes) are measured."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from gad_project import cifrado
from tests.pg_propio import ClusterPropio
from tests.vivo import RAIZ, puerto_libre

pytestmark = pytest.mark.lento
ARCHIVE_TIMEOUT_S = 10
SECRETOS = ("30111222", "7712345099")  # a DNI, a Telegram id
CONTROL = "control-en-claro-4471"


def _respaldo(cluster: ClusterPropio, repositorio: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GAD_PG_DATA": str(cluster.dir / "datos"),
        "GAD_PG_PORT": str(cluster.puerto),
        "GAD_PG_SOCKET": str(cluster.dir),
        "GAD_RESPALDO_DIR": str(repositorio),
        "GAD_STANZA": "prueba",
        "GAD_ARCHIVE_TIMEOUT": str(ARCHIVE_TIMEOUT_S),
    }
    r = subprocess.run(["bash", "scripts/respaldo.sh", *args], cwd=RAIZ, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_restaurar_a_un_momento_trae_exactamente_lo_escrito_hasta_entonces():
    cluster = ClusterPropio()
    repositorio = Path(tempfile.mkdtemp(prefix="gad-respaldo-"))
    destino = Path(tempfile.mkdtemp(prefix="gad-restaurado-")) / "datos"
    puerto = puerto_libre()
    os.chmod(destino.parent, 0o777)
    try:
        cluster.iniciar()
        dsn = f"postgresql://gad@127.0.0.1:{cluster.puerto}/postgres"
        _respaldo(cluster, repositorio, "configurar")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE TABLE lecturas (id serial PRIMARY KEY, lote text NOT NULL)")
            # Personal data as GAD stores it (gad_project.cifrado: blind index and token), next to a
            # control value in clear that the search below must find.
            c.execute("CREATE TABLE personas (dni text, telegram text, control text)")
            c.execute(
                "INSERT INTO personas VALUES (%s, %s, %s)",
                [*(f"{cifrado.indice(v)}{cifrado.SEPARADOR}{cifrado.cifrar(v)}" for v in SECRETOS), CONTROL],
            )
            c.execute("CHECKPOINT")
        assert "full backup" in _respaldo(cluster, repositorio, "respaldar")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("INSERT INTO lecturas (lote) SELECT 'antes' FROM generate_series(1, 500)")
            time.sleep(1.1)
            (momento,) = c.execute(
                "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
            ).fetchone()
            time.sleep(1.1)
            c.execute("INSERT INTO lecturas (lote) SELECT 'despues' FROM generate_series(1, 300)")
            # RPO: from the last commit to its WAL segment archived, with nothing forcing a switch.
            escrito = time.monotonic()
            (segmento,) = c.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()
            fin = escrito + ARCHIVE_TIMEOUT_S + 30
            while time.monotonic() < fin:
                (archivado,) = c.execute("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").fetchone()
                if archivado >= segmento:
                    break
                time.sleep(0.2)
            rpo_s = time.monotonic() - escrito
        assert archivado >= segmento, (archivado, segmento)
        assert rpo_s <= ARCHIVE_TIMEOUT_S + 5, rpo_s
        cluster.detener()  # the primary is lost

        inicio = time.monotonic()
        salida = _respaldo(cluster, repositorio, "restaurar", momento, str(destino), str(puerto))
        rto_s = time.monotonic() - inicio
        assert re.search(r"Restored to .* in \d+ ms", salida), salida
        with psycopg.connect(f"postgresql://gad@127.0.0.1:{puerto}/postgres") as c:
            filas = dict(c.execute("SELECT lote, count(*) FROM lecturas GROUP BY 1").fetchall())
            (en_recuperacion,) = c.execute("SELECT pg_is_in_recovery()").fetchone()
        assert filas == {"antes": 500}  # exactly the first writes
        assert en_recuperacion is False  # promoted: it takes writes
        # What the backup held, decompressed by the restore: the control in clear, no DNI or
        # Telegram id.
        contenido = b"".join(f.read_bytes() for f in destino.rglob("*") if f.is_file() and os.access(f, os.R_OK))
        assert CONTROL.encode() in contenido
        for secreto in SECRETOS:
            assert secreto.encode() not in contenido, secreto
        print(json.dumps({"rpo_s": round(rpo_s, 1), "rto_s": round(rto_s, 1), "archive_timeout_s": ARCHIVE_TIMEOUT_S}))
        info = _respaldo(cluster, repositorio, "info")
        assert "full backup" in info
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                f"{sorted(Path('/usr/lib/postgresql').glob('*/bin'))[-1]}/pg_ctl",
                "-D",
                str(destino),
                "-m",
                "immediate",
                "stop",
            ]
            if os.geteuid() == 0
            else ["true"],
            capture_output=True,
        )
        cluster.borrar()
        shutil.rmtree(repositorio, ignore_errors=True)
        shutil.rmtree(destino.parent, ignore_errors=True)
