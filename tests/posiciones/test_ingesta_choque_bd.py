"""An acknowledgement is a promise: PostgreSQL crashing under load (an immediate stop: no
checkpoint, nothing flushed) loses nothing that GAD answered 201 to. With the cluster settings
`make run` uses (deploy/postgresql/gad.conf); the suite's own database is not touched."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from django.db import connection

from tests.pg_propio import ClusterPropio
from tests.vivo import RAIZ, esperar_http, puerto_libre


def test_la_base_de_make_run_confirma_cada_escritura_sincronicamente(db):
    """scripts/services.sh's cluster (the one `make test` runs on) and the app's connections."""
    with connection.cursor() as c:
        c.execute("SHOW synchronous_commit")
        assert c.fetchone()[0] == "on"
    assert "synchronous_commit = on" in (RAIZ / "deploy" / "postgresql" / "gad.conf").read_text()


@pytest.mark.lento
def test_un_choque_de_postgresql_bajo_carga_no_pierde_ninguna_lectura_confirmada():
    cluster = ClusterPropio(produccion=True)
    cluster.iniciar()
    try:
        cluster.base_crear(admin="choque", clave="choque-clave-1", efectivos=8)
        puerto = puerto_libre()
        env = {
            **os.environ,
            "DATABASE_URL": cluster.url,
            "LOG_LEVEL": "WARNING",
            "REDIS_PREFIX": "gadtestchoque",
            "LIMITE_POSICIONES": "0",
        }
        comando = [str(RAIZ / ".venv/bin/uvicorn"), "gad_project.asgi:application", "--port", str(puerto)]
        registro = RAIZ / ".run" / "logs" / "test-choque-bd.log"
        registro.parent.mkdir(parents=True, exist_ok=True)
        servidor = subprocess.Popen(comando, cwd=RAIZ, env=env, stdout=subprocess.DEVNULL, stderr=registro.open("w"))
        url = f"http://127.0.0.1:{puerto}"
        try:
            esperar_http(f"{url}/health")
            token = httpx.post(
                f"{url}/api/v1/auth/token/", json={"username": "choque", "password": "choque-clave-1"}, timeout=10
            ).json()["access"]
            with psycopg.connect(f"postgresql://gad@127.0.0.1:{cluster.puerto}/gad") as conn:
                efectivos = [fila[0] for fila in conn.execute("SELECT id FROM efectivos_efectivo")]
            confirmadas, crudas = asyncio.run(_cargar(url, token, efectivos, cluster))
        finally:
            servidor.terminate()
            servidor.wait(timeout=20)
        with psycopg.connect(f"postgresql://gad@127.0.0.1:{cluster.puerto}/gad") as conn:
            guardadas = {str(fila[0]) for fila in conn.execute("SELECT id_cliente FROM efectivos_posicion")}
        assert len(confirmadas) > 200, f"too little load to mean anything: {len(confirmadas)}"
        assert crudas["antes"] > 50 and crudas["despues"] > 50, crudas  # load on both sides of the crash
        perdidas = confirmadas - guardadas
        assert not perdidas, f"{len(perdidas)} of {len(confirmadas)} acknowledged readings lost"
    finally:
        cluster.borrar()


async def _cargar(url: str, token: str, efectivos: list[int], cluster: ClusterPropio) -> tuple[set[str], dict]:
    """4 phones posting single readings as fast as answers come; PostgreSQL killed after 1.5 s
    and started again 3 s later; the phones keep posting new readings through it all, until 100
    more were acknowledged after the crash."""
    confirmadas: set[str] = set()
    cuenta = {"antes": 0, "despues": 0}
    fase = {"nombre": "antes"}
    fin = asyncio.Event()

    async def telefono(efectivo: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as cliente:
            while not fin.is_set():
                lectura = {
                    "id_cliente": str(uuid.uuid4()),
                    "efectivo": efectivo,
                    "lat": -34.6,
                    "lon": -58.4,
                    "registrada_en": datetime.now(UTC).isoformat(),
                }
                try:
                    r = await cliente.post(
                        "/api/v1/posiciones/", json=lectura, headers={"Authorization": f"Bearer {token}"}
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
                    continue
                if r.status_code == 201:
                    confirmadas.add(lectura["id_cliente"])
                    cuenta[fase["nombre"]] += 1
                else:
                    await asyncio.sleep(0.1)

    async def choque() -> None:
        await asyncio.sleep(1.5)
        await asyncio.to_thread(cluster.matar)
        fase["nombre"] = "despues"
        await asyncio.sleep(3)
        await asyncio.to_thread(cluster.iniciar)
        limite = time.monotonic() + 40  # recovery, then the pool's reconnection back-off
        while cuenta["despues"] < 100 and time.monotonic() < limite:
            await asyncio.sleep(0.2)
        fin.set()

    await asyncio.wait_for(asyncio.gather(choque(), *(telefono(e) for e in efectivos[:4])), 90)
    return confirmadas, cuenta
