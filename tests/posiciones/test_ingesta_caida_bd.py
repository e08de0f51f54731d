"""PostgreSQL really stopped under load: the ingest answers 503 with Retry-After (never 500),
promptly, and nothing acknowledged is lost or stored twice when clients retry with the same
id_cliente. A PostgreSQL cluster of its own, so the suite's database is not touched."""

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

from tests.pg_propio import ClusterPropio
from tests.vivo import RAIZ, esperar_http, puerto_libre, sesion_navegador

pytestmark = pytest.mark.lento


@pytest.fixture
def cluster():
    c = ClusterPropio()
    c.iniciar()
    c.base_crear(admin="caida", clave="caida-clave-1", efectivos=20)
    try:
        yield c
    finally:
        c.borrar()


def test_con_postgresql_detenido_la_ingesta_responde_503_y_no_pierde_ni_duplica(cluster):
    puerto = puerto_libre()
    env = {**os.environ, "DATABASE_URL": cluster.url, "LOG_LEVEL": "WARNING", "REDIS_PREFIX": "gadtestcaida"}
    comando = [
        str(RAIZ / ".venv/bin/uvicorn"),
        "gad_project.asgi:application",
        "--port",
        str(puerto),
        "--workers",
        "2",
        "--no-access-log",
    ]
    registro = RAIZ / ".run" / "logs" / "test-caida-bd.log"
    registro.parent.mkdir(parents=True, exist_ok=True)
    servidor = subprocess.Popen(comando, cwd=RAIZ, env=env, stdout=subprocess.DEVNULL, stderr=registro.open("w"))
    url = f"http://127.0.0.1:{puerto}"
    try:
        esperar_http(f"{url}/health")
        token = httpx.post(
            f"{url}/api/v1/auth/token/", json={"username": "caida", "password": "caida-clave-1"}, timeout=10
        ).json()["access"]
        with psycopg.connect(f"postgresql://gad@127.0.0.1:{cluster.puerto}/gad") as conn:
            efectivos = [fila[0] for fila in conn.execute("SELECT id FROM efectivos_efectivo")]
        resultado = asyncio.run(_cargar(url, token, efectivos, cluster))
    finally:
        servidor.terminate()
        servidor.wait(timeout=20)

    assert resultado["estados"].keys() <= {201, 503}, resultado["estados"]
    assert resultado["estados"].get(503, 0) > 0, f"the outage was never seen: {resultado['estados']}"
    assert resultado["retry_after"] == {"5"}
    # A 503 comes fast: the pool's checkout deadline (DB_POOL_TIMEOUT, 2 s) bounds it, plus what
    # a loaded 2-core machine adds.
    esperas = sorted(resultado["esperas_503_s"])
    assert esperas[int(len(esperas) * 0.95)] < 2.5, esperas
    assert esperas[-1] < 5.0, esperas
    with psycopg.connect(f"postgresql://gad@127.0.0.1:{cluster.puerto}/gad") as conn:
        guardadas = [str(fila[0]) for fila in conn.execute("SELECT id_cliente FROM efectivos_posicion")]
    assert len(guardadas) == len(set(guardadas))  # nothing stored twice
    assert resultado["confirmadas"] <= set(guardadas)  # nothing acknowledged lost
    assert len(resultado["confirmadas"]) == resultado["total"]  # and every reading got in at last


async def _cargar(url: str, token: str, efectivos: list[int], cluster: ClusterPropio) -> dict:
    """12 phones, each sending its readings one by one and retrying the same reading (same
    id_cliente) after a 503 or a dropped connection; PostgreSQL stopped for 4 s in the middle."""
    estados: dict[int, int] = {}
    retry_after: set[str] = set()
    confirmadas: set[str] = set()
    espera_503: list[float] = []
    por_telefono = 40

    async def telefono(efectivo: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as cliente:
            for _ in range(por_telefono):
                lectura = {
                    "id_cliente": str(uuid.uuid4()),
                    "efectivo": efectivo,
                    "lat": -34.6,
                    "lon": -58.4,
                    "registrada_en": datetime.now(UTC).isoformat(),
                }
                while True:
                    inicio = time.monotonic()
                    try:
                        r = await cliente.post(
                            "/api/v1/posiciones/", json=lectura, headers={"Authorization": f"Bearer {token}"}
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(0.2)
                        continue
                    estados[r.status_code] = estados.get(r.status_code, 0) + 1
                    if r.status_code == 201:
                        confirmadas.add(lectura["id_cliente"])
                        break
                    if r.status_code == 503:
                        espera_503.append(time.monotonic() - inicio)
                        retry_after.add(r.headers.get("retry-after"))
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.05)

    async def apagon() -> None:
        await asyncio.sleep(1.5)
        await asyncio.to_thread(cluster.detener)
        await asyncio.sleep(4)
        await asyncio.to_thread(cluster.iniciar)

    await asyncio.wait_for(asyncio.gather(apagon(), *(telefono(e) for e in efectivos[:12])), 120)
    return {
        "estados": estados,
        "retry_after": retry_after,
        "confirmadas": confirmadas,
        "total": 12 * por_telefono,
        "esperas_503_s": espera_503,
    }


def test_con_postgresql_detenido_todo_responde_503_pronto_y_ready_nombra_solo_la_base(cluster):
    """Sign-in, token refresh, a WebSocket ticket, a list, a report page and readiness while
    PostgreSQL is down: 503 with Retry-After in the error shape within 2 s (readiness within 1 s,
    naming only the database), never Django's 500 page; all of it serves again once it is back."""
    puerto = puerto_libre()
    env = {**os.environ, "DATABASE_URL": cluster.url, "LOG_LEVEL": "WARNING", "REDIS_PREFIX": "gadtestcaida2"}
    comando = [str(RAIZ / ".venv/bin/uvicorn"), "gad_project.asgi:application", "--port", str(puerto), "--workers", "2"]
    registro = RAIZ / ".run" / "logs" / "test-caida-bd-todo.log"
    servidor = subprocess.Popen(comando, cwd=RAIZ, env=env, stdout=subprocess.DEVNULL, stderr=registro.open("w"))
    url = f"http://127.0.0.1:{puerto}"
    try:
        esperar_http(f"{url}/health")
        cliente = httpx.Client(base_url=url, timeout=10)
        tokens = cliente.post("/api/v1/auth/token/", json={"username": "caida", "password": "caida-clave-1"}).json()
        jwt = {"Authorization": f"Bearer {tokens['access']}"}
        pedidos = [
            ("POST", "/api/v1/auth/token/", {"json": {"username": "caida", "password": "caida-clave-1"}}),
            ("POST", "/api/v1/auth/token/refresh/", {"json": {"refresh": tokens["refresh"]}}),
            ("POST", "/api/v1/ws/ticket/", {"headers": jwt}),
            ("GET", "/api/v1/efectivos/", {"headers": jwt}),
            ("GET", "/api/v1/tareas/", {"headers": jwt}),
        ]
        assert [cliente.request(m, r, **kw).status_code for m, r, kw in pedidos] == [200, 200, 201, 200, 200]
        cookie = sesion_navegador(url, "caida", "caida-clave-1")
        assert cliente.get("/reportes/", headers={"Cookie": cookie}).status_code == 200
        cluster.detener()
        try:
            for _ in range(2):  # the first round finds the pool's connections dead, the second none
                for metodo, ruta, kw in pedidos:
                    inicio = time.monotonic()
                    r = cliente.request(metodo, ruta, **kw)
                    espera = time.monotonic() - inicio
                    assert r.status_code == 503, (ruta, r.status_code, r.text[:300])
                    assert r.headers["retry-after"] == "5" and r.json()["error"]["codigo"] == "servicio_no_disponible"
                    assert espera < 2.5, (ruta, espera)
                inicio = time.monotonic()
                r = cliente.get("/health/ready")
                assert time.monotonic() - inicio < 1.2
                assert r.status_code == 503 and r.json()["caidos"] == ["database"], r.text
                assert r.headers["retry-after"] == "5"
                # A page for people: a short 503 page in Spanish, not Django's 500 page.
                r = cliente.get("/reportes/", headers={"Cookie": cookie})
                assert r.status_code == 503 and "Servicio no disponible" in r.text, r.text[:300]
                assert r.headers["retry-after"] == "5"
        finally:
            cluster.iniciar()
        fin = time.monotonic() + 15
        while cliente.get("/health/ready").status_code != 200 and time.monotonic() < fin:
            time.sleep(0.2)
        tokens = cliente.post("/api/v1/auth/token/", json={"username": "caida", "password": "caida-clave-1"}).json()
        jwt = {"Authorization": f"Bearer {tokens['access']}"}
        assert cliente.get("/api/v1/efectivos/", headers=jwt).status_code == 200
        assert cliente.post("/api/v1/ws/ticket/", headers=jwt).status_code == 201
    finally:
        servidor.terminate()
        servidor.wait(timeout=20)
