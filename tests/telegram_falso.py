"""A local fake of the Telegram Bot API: a small HTTP server implementing the methods our bot and
notifications use, so the real python-telegram-bot client talks HTTP to it (pointed at it with
TELEGRAM_API_URL). Tests queue updates, read what the bot sent, and can make sendMessage fail
(outage: 502; flood control: 429 with retry_after)."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.vivo import RAIZ, proceso, puerto_libre

TOKEN = "123456:PRUEBA-gad"
BOT = {"id": 999, "is_bot": True, "first_name": "GRUPO_GAD", "username": "gad_prueba_bot"}


class _Servidor(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up on a long poll (the bot stopping): nothing to report


class TelegramFalso:
    def __init__(self, puerto: int = 0) -> None:
        self.updates: list[dict] = []
        self.llamadas: list[tuple[str, dict, float]] = []
        self.fallos: list[tuple[str, int]] = []  # queued sendMessage failures: ("caido"|"429"|"403", retry_after)
        self.cond = threading.Condition()
        self._ids = itertools.count(1000)
        self._mensajes = itertools.count(1)
        self.servidor = _Servidor(("127.0.0.1", puerto), self._handler())
        self.hilo = threading.Thread(target=self.servidor.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.servidor.server_address[1]}/bot"

    def __enter__(self) -> TelegramFalso:
        self.hilo.start()
        return self

    def __exit__(self, *exc) -> None:
        self.servidor.shutdown()
        self.servidor.server_close()

    # --- what tests do -----------------------------------------------------------------------

    def encolar(self, update: dict) -> dict:
        with self.cond:
            self.updates.append(update)
            self.cond.notify_all()
        return update

    def update_id(self) -> int:
        return next(self._ids)

    def llamadas_a(self, metodo: str, **filtro) -> list[dict]:
        with self.cond:
            return [
                p
                for m, p, _ in self.llamadas
                if m == metodo and all(str(p.get(k)) == str(v) for k, v in filtro.items())
            ]

    def esperar(self, metodo: str, cantidad: int = 1, timeout: float = 20.0, **filtro) -> list[dict]:
        fin = time.monotonic() + timeout
        with self.cond:
            while True:
                hechas = [
                    p
                    for m, p, _ in self.llamadas
                    if m == metodo and all(str(p.get(k)) == str(v) for k, v in filtro.items())
                ]
                if len(hechas) >= cantidad:
                    return hechas
                restante = fin - time.monotonic()
                if restante <= 0:
                    raise TimeoutError(
                        f"{metodo} x{cantidad} {filtro}: got {[(m, p.get('text')) for m, p, _ in self.llamadas]}"
                    )
                self.cond.wait(restante)

    # --- the HTTP side -----------------------------------------------------------------------

    def _handler(self):
        falso = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                ruta = urllib.parse.urlparse(self.path)
                metodo = ruta.path.rsplit("/", 1)[-1]
                if not ruta.path.startswith(f"/bot{TOKEN}/"):
                    return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                params = falso._params(self, ruta.query)
                estado, cuerpo = falso._atender(metodo, params)
                self._json(estado, cuerpo)

            def _json(self, estado: int, cuerpo: dict) -> None:
                datos = json.dumps(cuerpo).encode()
                self.send_response(estado)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(datos)))
                self.end_headers()
                self.wfile.write(datos)

        return Handler

    @staticmethod
    def _params(handler, query: str) -> dict:
        largo = int(handler.headers.get("Content-Length") or 0)
        crudo = handler.rfile.read(largo) if largo else b""
        tipo = handler.headers.get("Content-Type", "")
        if "json" in tipo and crudo:
            return json.loads(crudo)
        pares = urllib.parse.parse_qs(crudo.decode() or query)
        params = {}
        for k, v in pares.items():
            try:
                params[k] = json.loads(v[0])
            except ValueError:
                params[k] = v[0]
        return params

    def _atender(self, metodo: str, params: dict) -> tuple[int, dict]:
        if metodo == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self.cond:
            if metodo == "sendMessage" and self.fallos:
                modo, espera = self.fallos.pop(0)
                self.llamadas.append(("sendMessage:fallo", params, time.monotonic()))
                self.cond.notify_all()
                if modo == "429":
                    return 429, {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {espera}",
                        "parameters": {"retry_after": espera},
                    }
                if modo == "403":
                    return 403, {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    }
                return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            self.llamadas.append((metodo, params, time.monotonic()))
            self.cond.notify_all()
        if metodo == "getMe":
            return 200, {"ok": True, "result": BOT}
        if metodo in ("sendMessage", "editMessageText", "sendVenue", "sendLocation"):
            return 200, {"ok": True, "result": self._mensaje_bot(params)}
        return 200, {"ok": True, "result": True}

    def _get_updates(self, params: dict) -> list[dict]:
        desde = int(params.get("offset") or 0)
        fin = time.monotonic() + min(float(params.get("timeout") or 0), 5)
        with self.cond:
            while True:
                listos = [u for u in self.updates if u["update_id"] >= desde or u.get("_repetir")]
                if listos or time.monotonic() >= fin:
                    for u in listos:
                        u.pop("_repetir", None)
                    self.llamadas.append(("getUpdates", params, time.monotonic()))
                    self.cond.notify_all()
                    return [{k: v for k, v in u.items() if not k.startswith("_")} for u in listos]
                self.cond.wait(max(0.01, fin - time.monotonic()))

    def _mensaje_bot(self, params: dict) -> dict:
        return {
            "message_id": int(params.get("message_id") or next(self._mensajes)),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT,
            "text": params.get("text", ""),
        }

    # --- update builders ----------------------------------------------------------------------

    def usuario(self, telegram_id: int) -> dict:
        return {"id": telegram_id, "is_bot": False, "first_name": "Efectivo", "language_code": "es"}

    def mensaje(self, telegram_id: int, texto: str, *, grupo: int | None = None) -> dict:
        m = self._mensaje(telegram_id)
        if grupo is not None:  # sent in a group chat the bot is a member of
            m["chat"] = {"id": grupo, "type": "group", "title": "Grupo de la unidad"}
        m["text"] = texto
        if texto.startswith("/"):
            m["entities"] = [{"type": "bot_command", "offset": 0, "length": len(texto.split()[0])}]
        return self.encolar({"update_id": self.update_id(), "message": m})

    def ubicacion(
        self,
        telegram_id: int,
        lat: float,
        lon: float,
        *,
        en_vivo: bool = False,
        editar: dict | None = None,
        precision=5.0,
        reenviada_de: int | None = None,
    ) -> dict:
        loc = {"latitude": lat, "longitude": lon, "horizontal_accuracy": precision}
        if en_vivo:
            loc["live_period"] = 900
        if editar is None:
            m = self._mensaje(telegram_id)
            m["location"] = loc
            if reenviada_de is not None:  # forwarded from another user's chat (Bot API 7.0 shape)
                m["forward_origin"] = {
                    "type": "user",
                    "date": m["date"] - 60,
                    "sender_user": self.usuario(reenviada_de),
                }
            return self.encolar({"update_id": self.update_id(), "message": m})
        m = {**editar, "location": loc, "edit_date": int(time.time()) + next(self._ids) % 1000}
        return self.encolar({"update_id": self.update_id(), "edited_message": m})

    def boton(self, telegram_id: int, datos: str, mensaje: dict) -> dict:
        return self.encolar(
            {
                "update_id": self.update_id(),
                "callback_query": {
                    "id": str(self.update_id()),
                    "from": self.usuario(telegram_id),
                    "chat_instance": "1",
                    "data": datos,
                    "message": mensaje,
                },
            }
        )

    def repetir(self, update: dict) -> None:
        """Deliver an update again, as Telegram may after a restart or a lost acknowledgement."""
        self.encolar({**update, "_repetir": True})

    def _mensaje(self, telegram_id: int) -> dict:
        return {
            "message_id": next(self._mensajes),
            "date": int(time.time()),
            "chat": {"id": telegram_id, "type": "private"},
            "from": self.usuario(telegram_id),
        }


@contextmanager
def bot_en_marcha(falso: TelegramFalso | None, *args: str, url: str | None = None, **env: str):
    """`manage.py run_telegram_bot` as its own process, on the test database, talking to `falso`
    (or to `url`, where nothing may be listening yet)."""
    entorno = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": url or falso.url,
        "TELEGRAM_POLL_TIMEOUT_S": "1",
        **env,
    }
    comando = [str(RAIZ / ".venv/bin/python"), "manage.py", "run_telegram_bot", *args]
    with proceso(f"bot-{puerto_libre()}", comando, **entorno) as proc:
        if falso is not None and "--webhook" not in args:
            falso.esperar("getUpdates", timeout=30)
        yield proc
