"""A small command-line client of the live event stream, and the reference for app developers:

    .venv/bin/python -m realtime.cliente --usuario comandante --clave comandante1234

It signs in (JWT), trades the token for a single-use WebSocket ticket, connects to /ws/eventos/
and prints every event. When the socket drops (network, server restart, Redis restart) it
reconnects with backoff and ?desde=<last id>, so the server replays what was missed; duplicates
are dropped by id. Answers pings with pongs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import urllib.request
from collections.abc import Callable

import websockets


def _post(url: str, cuerpo: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(cuerpo).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as respuesta:
        return json.loads(respuesta.read())


class Cliente:
    def __init__(self, base: str, usuario: str, clave: str, *, al_recibir: Callable[[dict], None] | None = None):
        self.base = base.rstrip("/")
        self.usuario, self.clave = usuario, clave
        self.ultimo_id = -1  # -1: no cursor yet; the server says where "now" is
        self.vistos: set[int] = set()
        self.al_recibir = al_recibir or (lambda evento: print(json.dumps(evento, ensure_ascii=False), flush=True))
        self.reconexiones = 0

    def _ticket(self) -> str:
        acceso = _post(f"{self.base}/api/v1/auth/token/", {"username": self.usuario, "password": self.clave})["access"]
        return _post(f"{self.base}/api/v1/ws/ticket/", {}, token=acceso)["ticket"]

    async def correr(self, *, hasta: Callable[[], bool] = lambda: False) -> None:
        espera = 0.5
        while not hasta():
            try:
                ticket = await asyncio.to_thread(self._ticket)
                ws_url = self.base.replace("http", "ws", 1) + f"/ws/eventos/?ticket={ticket}"
                if self.ultimo_id >= 0:
                    ws_url += f"&desde={self.ultimo_id}"
                async with websockets.connect(ws_url, max_size=None, open_timeout=10) as ws:
                    espera = 0.5
                    async for texto in ws:
                        self._procesar(json.loads(texto))
                        if json.loads(texto).get("tipo") == "ping":
                            await ws.send(json.dumps({"tipo": "pong"}))
                        if hasta():
                            return
            except (OSError, websockets.WebSocketException, urllib.error.URLError) as exc:
                self.reconexiones += 1
                print(f"# conexión perdida ({exc}); reintento en {espera:.1f} s", file=sys.stderr, flush=True)
            await asyncio.sleep(espera + random.random() * 0.2)
            espera = min(espera * 2, 10.0)

    def _procesar(self, mensaje: dict) -> None:
        tipo = mensaje.get("tipo")
        if tipo == "hola":
            self.ultimo_id = max(self.ultimo_id, mensaje["datos"]["ultimo_id"])
            return
        if tipo == "resync":
            print("# el servidor pide recargar el estado completo (resync)", file=sys.stderr, flush=True)
            return
        if "id" not in mensaje or mensaje["id"] in self.vistos:
            return
        self.vistos.add(mensaje["id"])
        self.ultimo_id = max(self.ultimo_id, mensaje["id"])
        self.al_recibir(mensaje)


def main() -> None:
    parser = argparse.ArgumentParser(description="Imprime el flujo de eventos en vivo de GRUPO_GAD.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--usuario", required=True)
    parser.add_argument("--clave", required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Cliente(args.url, args.usuario, args.clave).correr())


if __name__ == "__main__":
    main()
