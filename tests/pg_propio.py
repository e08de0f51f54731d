"""A PostgreSQL cluster of a test's own (initdb in a temporary directory, its own port), for the
tests that stop, kill, archive or restore PostgreSQL: the suite's database is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.vivo import RAIZ, puerto_libre, solo_suite_completa

PG_BIN = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])


def como_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


class ClusterPropio:
    """`produccion`: with the settings `make run` gives its cluster (deploy/postgresql/gad.conf)
    and durable writes, for the crash tests; otherwise fast and not crash-safe."""

    def __init__(self, *, produccion: bool = False) -> None:
        solo_suite_completa("a PostgreSQL cluster of its own")
        self.dir = Path(tempfile.mkdtemp(prefix="gad-pg-"))
        self.puerto = puerto_libre()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            como_postgres(str(PG_BIN / "initdb"), "-D", str(self.dir / "datos"), "-U", "gad", "--auth=trust"),
            check=True,
            capture_output=True,
        )
        with (self.dir / "datos" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.puerto}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
            )
            if produccion:
                conf.write((RAIZ / "deploy" / "postgresql" / "gad.conf").read_text().replace("1GB", "128MB"))
            else:
                conf.write("fsync = off\nsynchronous_commit = off\n")

    @property
    def url(self) -> str:
        return f"postgis://gad@127.0.0.1:{self.puerto}/gad"

    def iniciar(self) -> None:
        subprocess.run(
            como_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "datos"), "-l", str(self.dir / "log"), "-w", "start"
            ),
            check=True,
            capture_output=True,
        )

    def detener(self) -> None:
        subprocess.run(
            como_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "datos"), "-m", "fast", "-w", "stop"),
            check=True,
            capture_output=True,
        )

    def matar(self) -> None:
        """A crash: the postmaster and its backends stop at once, nothing flushed or checkpointed."""
        subprocess.run(
            como_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "datos"), "-m", "immediate", "-w", "stop"),
            check=True,
            capture_output=True,
        )

    def borrar(self) -> None:
        subprocess.run(como_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "datos"), "-m", "immediate", "stop"))
        shutil.rmtree(self.dir, ignore_errors=True)

    def base_crear(self, *, admin: str, clave: str, efectivos: int, ademas: str = "", clave_gad: bool = False) -> None:
        """Database `gad` migrated, with one unidad 'C', an administrator and `efectivos` efectivos
        (C0, C1, ...); `ademas`: more Python run in the same shell; `clave_gad`: the role `gad`
        gets the password 'gad' (for PgBouncer, which does not trust)."""
        with psycopg.connect(f"postgresql://gad@127.0.0.1:{self.puerto}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE gad")
            if clave_gad:
                conn.execute("ALTER ROLE gad PASSWORD 'gad'")
        env = {**os.environ, "DATABASE_URL": self.url}
        py = str(RAIZ / ".venv/bin/python")
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=RAIZ, env=env, check=True)
        sembrado = (
            "from efectivos.models import *; u = Unidad.objects.create(codigo='C', nombre='C');"
            f"Usuario.objects.create_superuser({admin!r}, password={clave!r}, rol='administrador');"
            "from datetime import timedelta; from django.utils import timezone; ahora = timezone.now();"
            # On duty (a shift around now): their readings are stored.
            "[Turno.objects.create(efectivo=Efectivo.objects.create(codigo_interno=f'C{i}', dni=f'C{i}', nombre='N',"
            " apellido='A', unidad=u), inicio=ahora - timedelta(days=30), fin=ahora + timedelta(days=30))"
            f" for i in range({efectivos})];"
        )
        subprocess.run([py, "manage.py", "shell", "-c", sembrado + ademas], cwd=RAIZ, env=env, check=True)
