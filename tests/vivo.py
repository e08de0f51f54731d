"""Helpers for end-to-end tests: real daphne processes on the test database, real WebSocket
clients, real Redis (the shared one, or a dedicated redis-server the test stops and starts)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import websockets
from django.db import connection

RAIZ = Path(__file__).resolve().parents[1]


def puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def esperar_http(url: str, timeout: float = 30.0) -> None:
    fin = time.monotonic() + timeout
    while time.monotonic() < fin:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


def esperar_puerto(puerto: int, timeout: float = 15.0) -> None:
    fin = time.monotonic() + timeout
    while time.monotonic() < fin:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", puerto)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {puerto}")


def solo_suite_completa(que: str) -> None:
    """`make test-rapido` (GAD_RAPIDO=1) skips what starts real processes: `make test` runs it."""
    if os.environ.get("GAD_RAPIDO") == "1":
        pytest.skip(f"starts {que}: run by make test, not make test-rapido")


@contextmanager
def proceso(nombre: str, comando: list[str], **env: str):
    """A project process (daphne, the bot, ...) on the test database, its stderr in
    .run/logs/test-<nombre>.log; stopped with its children when the block ends."""
    solo_suite_completa(f"a real process ({nombre})")
    nombre_bd = connection.settings_dict["NAME"]
    base = os.environ.get("DATABASE_URL") or f"postgis://gad:gad@127.0.0.1:{os.environ.get('GAD_PG_PORT', '55432')}/gad"
    entorno = {
        # The browser tests' escape hatch is for this process only (see tests/navegador.py).
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": base.rsplit("/", 1)[0] + f"/{nombre_bd}",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    registro = RAIZ / ".run" / "logs" / f"test-{nombre}.log"
    registro.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        comando, cwd=RAIZ, env=entorno, stdout=subprocess.DEVNULL, stderr=registro.open("w"), start_new_session=True
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# For tests whose tracks compress time (out of a zone and back in within a second) to test
# something else (delivery, the map): no reading is implausible. Plausibility itself is tested in
# tests/posiciones/test_implausibles.py at the real limit.
TIEMPO_COMPRIMIDO = {"VELOCIDAD_MAX_KMH": "1000000"}


@contextmanager
def daphne_proceso(**env: str):
    """A daphne process serving the project on the test database; yields its base URL and process."""
    puerto = puerto_libre()
    comando = [str(RAIZ / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(puerto), "gad_project.asgi:application"]
    with proceso(f"daphne-{puerto}", comando, **env) as proc:
        url = f"http://127.0.0.1:{puerto}"
        esperar_http(f"{url}/health")
        yield url, proc


@contextmanager
def daphne(**env: str):
    """A daphne process serving the project on the test database; yields its base URL."""
    with daphne_proceso(**env) as (url, _):
        yield url


@contextmanager
def uvicorn(workers: int = 2, **env: str):
    """The HTTP server of `make run` (uvicorn, one worker per core) on the test database."""
    puerto = puerto_libre()
    comando = [
        str(RAIZ / ".venv/bin/uvicorn"),
        "gad_project.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(puerto),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with proceso(f"uvicorn-{puerto}", comando, **env):
        url = f"http://127.0.0.1:{puerto}"
        esperar_http(f"{url}/health")
        yield url


class RedisPropio:
    """A dedicated redis-server that a test can really stop and start again on the same port."""

    def __init__(self, tmp: Path) -> None:
        solo_suite_completa("a Redis server of its own")
        self.puerto = puerto_libre()
        self.dir = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.puerto}/0"

    def iniciar(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.puerto),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fin = time.monotonic() + 10
        while time.monotonic() < fin:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.puerto)) == 0:
                    return
            time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def detener(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def post_json(url: str, cuerpo, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(cuerpo).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


_tokens: dict[tuple[str, str], str] = {}


def token(url: str, usuario: str, clave: str) -> str:
    """An access token, obtained once per server and user (signing in costs a password hash)."""
    if (url, usuario) not in _tokens:
        _tokens[url, usuario] = post_json(f"{url}/api/v1/auth/token/", {"username": usuario, "password": clave})[1][
            "access"
        ]
    return _tokens[url, usuario]


def ticket(url: str, usuario: str, clave: str) -> str:
    return post_json(f"{url}/api/v1/ws/ticket/", {}, token(url, usuario, clave))[1]["ticket"]


def ws_url(url: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return url.replace("http", "ws", 1) + "/ws/eventos/" + (f"?{query}" if query else "")


async def recibir(ws, *, hasta, timeout: float = 10.0) -> list[dict]:
    """Frames until `hasta(frames)` is true (pings answered and left out)."""
    frames: list[dict] = []
    fin = time.monotonic() + timeout
    while not hasta(frames):
        restante = fin - time.monotonic()
        if restante <= 0:
            raise TimeoutError(f"got {len(frames)} frames: {[f.get('tipo') for f in frames][-20:]}")
        mensaje = json.loads(await asyncio.wait_for(ws.recv(), restante))
        if mensaje.get("tipo") == "ping":
            await ws.send(json.dumps({"tipo": "pong"}))
            continue
        frames.append(mensaje)
    return frames


async def conectar(url: str, **kwargs):
    return await websockets.connect(url, open_timeout=10, max_size=None, **kwargs)


def sesion_navegador(url: str, usuario: str, clave: str) -> str:
    """Sign in through the real /login/ form (CSRF included); returns the Cookie header value."""
    import http.cookiejar
    import re

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{url}/login/", timeout=10).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    datos = urllib.parse.urlencode(
        {"username": usuario, "password": clave, "csrfmiddlewaretoken": csrf, "next": "/health"}
    ).encode()
    opener.open(urllib.request.Request(f"{url}/login/", data=datos, headers={"Referer": f"{url}/login/"}), timeout=10)
    galletas = {c.name: c.value for c in jar}
    assert "sessionid" in galletas, "login failed"
    return "; ".join(f"{k}={v}" for k, v in galletas.items())
