"""The multi-node topology of `make cluster` (scripts/cluster.sh), on a PostgreSQL primary of its
own: under a steady stream of readings and a connected commander, an app node is stopped, the
replica is killed, PgBouncer is restarted — and afterwards every acknowledged reading is stored
once, every alert raised reached the commander (reconnecting with `desde`), and the figures are
printed (readings acknowledged/stored, alerts created/delivered, duplicates, seconds until
healthy)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
import websockets

from tests.factories import CENTRO, desplazar
from tests.pg_propio import PG_BIN, ClusterPropio, como_postgres
from tests.vivo import RAIZ, proceso, puerto_libre

pytestmark = pytest.mark.lento
CLAVE = "cluster-clave-1"
logging.getLogger("httpx").setLevel(logging.WARNING)  # thousands of requests


def _base_libre() -> int:
    """A front port whose node ports (+101, +102, +201, +202) are free too."""
    import socket

    for _ in range(50):
        base = puerto_libre() // 1000 * 1000 % 50000 + 10000
        libres = True
        for p in (base, base + 101, base + 102, base + 201, base + 202):
            with socket.socket() as s:
                libres &= s.connect_ex(("127.0.0.1", p)) != 0
        if libres:
            return base
    raise RuntimeError("no free port block")


@pytest.fixture
def primario():
    c = ClusterPropio()
    c.iniciar()
    zona = (
        "from geocercas.models import Geocerca; from django.contrib.gis.geos import Polygon, MultiPolygon;"
        f"x, y = {CENTRO[0]}, {CENTRO[1]}; d = 0.001;"
        "Geocerca.objects.create(nombre='Zona', tipo='restringida', severidad='critica',"
        " geom=MultiPolygon(Polygon(((x-d, y-d), (x+d, y-d), (x+d, y+d), (x-d, y+d), (x-d, y-d)), srid=4326)))"
    )
    c.base_crear(admin="jefe", clave=CLAVE, efectivos=12, ademas=zona, clave_gad=True)
    try:
        yield c
    finally:
        c.borrar()


def test_la_topologia_sobrevive_a_perder_un_nodo_la_replica_y_pgbouncer(primario):
    trabajo = Path(tempfile.mkdtemp(prefix="gad-cluster-"))
    os.chmod(trabajo, 0o777)
    frente = _base_libre()
    replica_puerto, bouncer, redis2 = puerto_libre(), puerto_libre(), puerto_libre()
    env = {
        "GAD_PG_PORT": str(primario.puerto),
        "GAD_PG_DATA": str(primario.dir / "datos"),
        "GAD_PG_SOCKET": str(primario.dir),
        "GAD_REPLICA_PORT": str(replica_puerto),
        "GAD_REPLICA_DIR": str(trabajo / "replica"),
        "GAD_BOUNCER_PORT": str(bouncer),
        "GAD_REDIS2_PORT": str(redis2),
        "GAD_CLUSTER_PORT": str(frente),
        "GAD_CLUSTER_DIR": str(trabajo / "cluster"),
        "GAD_LOGS": f".run/logs/test-cluster-{frente}",
        "GAD_SIMULADOR": "0",
        "REDIS_PREFIX": f"gadtestcluster{frente}",
        "VELOCIDAD_MAX_KMH": "1000000",
        "LIMITE_POSICIONES": "0",
    }
    ctl = [str(RAIZ / ".venv/bin/supervisorctl"), "-c", str(trabajo / "cluster" / "supervisord.conf")]
    url = f"http://127.0.0.1:{frente}"
    try:
        with proceso(f"cluster-{frente}", ["bash", "scripts/cluster.sh", "start"], **env):
            _esperar_sano(url, 90)
            resultado = asyncio.run(_carga(url, primario, ctl, trabajo / "replica", replica_puerto))
    finally:
        subprocess.run(["bash", "scripts/cluster.sh", "stop"], cwd=RAIZ, env={**os.environ, **env}, capture_output=True)
        subprocess.run(
            como_postgres(str(PG_BIN / "pg_ctl"), "-D", str(trabajo / "replica"), "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(trabajo, ignore_errors=True)
    print(json.dumps(resultado, indent=1))
    assert resultado["lecturas_perdidas"] == 0 and resultado["lecturas_duplicadas_guardadas"] == 0
    assert resultado["lecturas_confirmadas"] > 500
    assert resultado["alertas_creadas"] >= 3
    assert resultado["alertas_no_entregadas"] == 0
    assert resultado["duplicados_tras_dedup"] == 0
    assert resultado["estados"].keys() <= {"201", "503", "502", "504", "conexion"}, resultado["estados"]
    assert resultado["lectura_replica_caida"] == 200  # reads that tolerate lag fell back to the primary
    for falla, segundos in resultado["segundos_hasta_sano"].items():
        assert segundos < 15, (falla, segundos)


def _esperar_sano(url: str, segundos: float) -> None:
    """Ready through the front for 3 s running: HAProxy round-robins, so one 200 can come from the
    first node up while the other is still starting (and both may briefly leave the rotation)."""
    fin = time.monotonic() + segundos
    sano_desde, ultimo = None, ""
    while time.monotonic() < fin:
        try:
            r = httpx.get(f"{url}/health/ready", timeout=2)
            ok, ultimo = r.status_code == 200, r.text if r.status_code != 200 else ultimo
        except httpx.HTTPError as exc:
            ok, ultimo = False, repr(exc)
        ahora = time.monotonic()
        sano_desde = (sano_desde or ahora) if ok else None
        if sano_desde is not None and ahora - sano_desde >= 3:
            return
        time.sleep(0.2)
    raise TimeoutError(f"the cluster did not become ready: {ultimo[:500]}")


async def _carga(url: str, primario: ClusterPropio, ctl: list[str], replica: Path, replica_puerto: int) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        r = await c.post("/api/v1/auth/token/", json={"username": "jefe", "password": CLAVE})
        assert r.status_code == 200, (r.status_code, r.text[:300])
        tok = r.json()["access"]
    auth = {"Authorization": f"Bearer {tok}"}
    with psycopg.connect(f"postgresql://gad@127.0.0.1:{primario.puerto}/gad") as conn:
        efectivos = [f[0] for f in conn.execute("SELECT id FROM efectivos_efectivo ORDER BY id")]
    confirmadas: set[str] = set()
    estados: dict[str, int] = {}
    recibidas: list[tuple[int, int]] = []  # (event id, alert id) of alert frames, duplicates included
    fin = asyncio.Event()

    async def telefono(efectivo: int, entra_y_sale: bool) -> None:
        i = 0
        async with httpx.AsyncClient(base_url=url, timeout=5) as c:
            while not fin.is_set():
                dentro = entra_y_sale and (i // 20) % 2 == 1  # in and out of the zone every 2 s
                lon, lat = CENTRO if dentro else desplazar(*CENTRO, este_m=400 + i % 7)
                lectura = {
                    "id_cliente": str(uuid.uuid4()),
                    "efectivo": efectivo,
                    "lat": lat,
                    "lon": lon,
                    "registrada_en": datetime.now(UTC).isoformat(),
                }
                while True:  # the same reading until it is acknowledged
                    try:
                        r = await c.post("/api/v1/posiciones/", json=lectura, headers=auth)
                        clave = str(r.status_code)
                    except httpx.HTTPError:
                        clave = "conexion"
                        r = None
                    estados[clave] = estados.get(clave, 0) + 1
                    if r is not None and r.status_code == 201:
                        confirmadas.add(lectura["id_cliente"])
                        break
                    await asyncio.sleep(0.2)
                i += 1
                await asyncio.sleep(0.1)

    async def comandante() -> None:
        desde = 0
        while not fin.is_set() or desde < ultimo_esperado[0]:
            try:
                async with httpx.AsyncClient(base_url=url, timeout=5) as c:
                    ticket = (await c.post("/api/v1/ws/ticket/", headers=auth)).json()["ticket"]
                ws_url = url.replace("http", "ws") + f"/ws/eventos/?ticket={ticket}&desde={desde}"
                async with websockets.connect(ws_url, open_timeout=5) as ws:
                    async for crudo in ws:
                        marco = json.loads(crudo)
                        if "id" in marco:
                            desde = max(desde, marco["id"])
                        if marco.get("tipo") == "alerta.geocerca":
                            recibidas.append((marco["id"], marco["datos"]["alerta_id"]))
                        if fin.is_set() and desde >= ultimo_esperado[0]:
                            return
            except (OSError, websockets.WebSocketException, httpx.HTTPError, KeyError, ValueError):
                await asyncio.sleep(0.3)

    ultimo_esperado = [1 << 62]
    sano: dict[str, float] = {}

    async def hasta_sano(nombre: str, prueba) -> None:
        inicio = time.monotonic()
        while time.monotonic() - inicio < 30:
            if await prueba():
                sano[nombre] = round(time.monotonic() - inicio, 2)
                return
            await asyncio.sleep(0.2)
        sano[nombre] = 99.0

    async def listo() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as c:
                return (await c.get(f"{url}/health/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    lectura_replica_caida = [0]

    async def fallas() -> None:
        await asyncio.sleep(4)
        # An app node goes away: the proxy takes it out; its sockets reconnect to the other node.
        await asyncio.to_thread(
            subprocess.run, [*ctl, "stop", "nodo1-uvicorn", "nodo1-daphne", "nodo1-celery"], capture_output=True
        )
        await hasta_sano("nodo_detenido", listo)
        await asyncio.sleep(3)
        await asyncio.to_thread(
            subprocess.run, [*ctl, "start", "nodo1-uvicorn", "nodo1-daphne", "nodo1-celery"], capture_output=True
        )
        await asyncio.sleep(3)
        # The replica dies: the reads that tolerate lag fall back to the primary.
        await asyncio.to_thread(
            subprocess.run,
            como_postgres(str(PG_BIN / "pg_ctl"), "-D", str(replica), "-m", "immediate", "stop"),
            capture_output=True,
        )

        async def recorrido_ok() -> bool:
            try:
                async with httpx.AsyncClient(base_url=url, timeout=5) as c:
                    r = await c.get(f"/api/v1/efectivos/{efectivos[0]}/recorrido/?motivo=supervision", headers=auth)
                    lectura_replica_caida[0] = r.status_code
                    return r.status_code == 200
            except httpx.HTTPError:
                return False

        await hasta_sano("replica_caida", recorrido_ok)
        await asyncio.to_thread(
            subprocess.run,
            como_postgres(str(PG_BIN / "pg_ctl"), "-D", str(replica), "-l", str(replica / "server.log"), "-w", "start"),
            capture_output=True,
        )
        await asyncio.sleep(2)
        # PgBouncer restarts: transactions in flight fail (503, retried), new ones go through.
        await asyncio.to_thread(subprocess.run, [*ctl, "restart", "pgbouncer"], capture_output=True)
        await hasta_sano("pgbouncer_reiniciado", listo)
        await asyncio.sleep(3)
        fin.set()

    tareas = [asyncio.create_task(telefono(e, entra_y_sale=i < 3)) for i, e in enumerate(efectivos)]
    ws = asyncio.create_task(comandante())
    await asyncio.sleep(1.5)
    await fallas()
    await asyncio.gather(*tareas)
    with psycopg.connect(f"postgresql://gad@127.0.0.1:{primario.puerto}/gad") as conn:
        guardadas = [str(f[0]) for f in conn.execute("SELECT id_cliente FROM efectivos_posicion")]
        alertas = {f[0] for f in conn.execute("SELECT id FROM geocercas_alerta")}
        (ultimo,) = conn.execute("SELECT coalesce(max(id), 0) FROM realtime_evento").fetchone()
    ultimo_esperado[0] = ultimo
    try:
        await asyncio.wait_for(ws, 30)
    except TimeoutError:
        ws.cancel()
    unicos = dict(recibidas)  # the client's de-duplication by event id
    alertas_vistas = set(unicos.values())
    return {
        "lecturas_confirmadas": len(confirmadas),
        "lecturas_guardadas": len(guardadas),
        "lecturas_perdidas": len(confirmadas - set(guardadas)),
        "lecturas_duplicadas_guardadas": len(guardadas) - len(set(guardadas)),
        "estados": estados,
        "alertas_creadas": len(alertas),
        "alertas_entregadas": len(alertas & alertas_vistas),
        "alertas_no_entregadas": len(alertas - alertas_vistas),
        "marcos_de_alerta_recibidos": len(recibidas),
        "duplicados_antes_de_dedup": len(recibidas) - len(unicos),
        "duplicados_tras_dedup": len(unicos) - len(alertas_vistas),
        "segundos_hasta_sano": sano,
        "lectura_replica_caida": lectura_replica_caida[0],
    }
