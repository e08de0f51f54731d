"""Settings refuse unsafe or malformed values at start-up. Each case runs a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.vivo import solo_suite_completa

RAIZ = Path(__file__).resolve().parents[2]


def _arrancar(**env: str) -> subprocess.CompletedProcess:
    solo_suite_completa("a fresh interpreter")
    entorno = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE"}}
    entorno.update(env, DJANGO_SETTINGS_MODULE="gad_project.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('arranco')"],
        cwd=RAIZ,
        env=entorno,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_false_con_la_clave_de_desarrollo_no_arranca():
    r = _arrancar(DEBUG="false")
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and "SECRET_KEY" in r.stderr


def test_debug_false_con_clave_propia_arranca():
    r = _arrancar(DEBUG="false", SECRET_KEY="x" * 50)
    assert r.returncode == 0, r.stderr
    assert "arranco" in r.stdout


def test_la_clave_se_lee_de_un_archivo(tmp_path):
    archivo = tmp_path / "secret"
    archivo.write_text("k" * 40 + "\n")
    r = _arrancar(DEBUG="false", SECRET_KEY_FILE=str(archivo))
    assert r.returncode == 0, r.stderr


def test_sin_debug_declarado_arranca_como_en_produccion():
    """Defaults fail closed: DEBUG off, so a deployment that forgets it is not a debug server."""
    codigo = (
        "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)"
    )
    entorno = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY_FILE", "SESSION_COOKIE_SECURE"}}
    entorno.update(SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="gad_project.settings")
    r = subprocess.run(
        [sys.executable, "-c", codigo], cwd=RAIZ, env=entorno, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]
    assert _arrancar().returncode != 0  # and then the development key is refused


@pytest.mark.parametrize(
    ("variable", "valor"),
    [
        ("DEBUG", "quizas"),
        ("POSICIONES_LOTE_MAX", "muchos"),
        ("POSICIONES_LOTE_MAX", "0"),
        ("REDIS_URL", "http://x"),
        ("GEOCERCA_CRUCE_MAX_S", "0"),  # a crossing gap of nothing, or of hours: refused
        ("GEOCERCA_CRUCE_MAX_S", "7200"),
        ("PLAUSIBILIDAD_CONFIRMAR_LECTURAS", "1"),  # one more fix confirms flapping
    ],
)
def test_un_valor_malformado_detiene_el_arranque_con_un_mensaje_claro(variable, valor):
    r = _arrancar(**{"SECRET_KEY": "x" * 50, variable: valor})
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr
    assert variable in r.stderr
