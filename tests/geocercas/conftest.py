"""Fixtures shared by the geocercas tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def escucha():
    """A local HTTP listener that records every request it gets (an SSRF would reach it)."""
    import http.server
    import threading

    pedidos: list[str] = []

    class Manejador(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            pedidos.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x,y\n-58.38,-34.60\n")

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    servidor = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Manejador)
    hilo = threading.Thread(target=servidor.serve_forever, daemon=True)
    hilo.start()
    yield servidor.server_address[1], pedidos
    servidor.shutdown()
