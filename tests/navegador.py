"""Headless Chromium (Debian's package, driven by Playwright; never a downloaded browser) for the
browser tests, and where their screenshots go."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTEFACTOS = Path(__file__).resolve().parents[1] / ".run" / "artefactos"
CHROMIUM = os.environ.get("GAD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def navegador(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package.")
    # Playwright's sync API keeps an event loop running in this thread; Django would then refuse
    # the test's own (synchronous) database queries. Only this process: vivo.daphne drops it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def captura(pagina, nombre: str) -> Path:
    ARTEFACTOS.mkdir(parents=True, exist_ok=True)
    ruta = ARTEFACTOS / f"{nombre}.png"
    pagina.screenshot(path=str(ruta))
    return ruta


def ingresar(browser, url: str, usuario: str, clave: str, *, viewport=(1366, 768), destino: str = "/"):
    """A new browser context signed in through the real login form; returns its page."""
    contexto = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="es-AR")
    pagina = contexto.new_page()
    pagina.errores = []
    pagina.on("pageerror", lambda e: pagina.errores.append(str(e)))
    pagina.goto(url + destino)
    pagina.fill("#id_username", usuario)
    pagina.fill("#id_password", clave)
    pagina.click("button[type=submit]")
    pagina.wait_for_load_state()
    return pagina
