"""The operator's side, checked: Prometheus rules (promtool), Alertmanager routing (amtool),
Grafana dashboards, the runbook — and every metric they name exists on a live /metrics."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import yaml

from tests.vivo import daphne

RAIZ = Path(__file__).resolve().parents[2]
PROMETHEUS = RAIZ / "deploy" / "prometheus"
_NOMBRE = re.compile(r"\b((?:gad|django)_[a-z0-9_]+)\b")


def _correr(*comando: str, cwd: Path = RAIZ) -> str:
    r = subprocess.run(comando, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


def test_las_reglas_pasan_promtool_y_sus_pruebas():
    assert "SUCCESS: 16 rules found" in _correr("promtool", "check", "rules", "reglas.yml", cwd=PROMETHEUS)
    assert "SUCCESS" in _correr("promtool", "check", "rules", "grabacion.yml", cwd=PROMETHEUS)
    assert "SUCCESS" in _correr("promtool", "test", "rules", "pruebas.yml", cwd=PROMETHEUS)
    assert "SUCCESS" in _correr("promtool", "check", "config", "--syntax-only", "prometheus.yml", cwd=PROMETHEUS)
    assert "SUCCESS" in _correr("amtool", "check-config", str(RAIZ / "deploy/alertmanager/alertmanager.yml"))


def _reglas() -> list[dict]:
    reglas = []
    for archivo in ("reglas.yml", "grabacion.yml"):
        for grupo in yaml.safe_load((PROMETHEUS / archivo).read_text())["groups"]:
            reglas.extend(grupo["rules"])
    return reglas


def _consultas_tableros() -> dict[str, list[str]]:
    consultas = {}
    for archivo in sorted((RAIZ / "deploy" / "grafana").glob("*.json")):
        tablero = json.loads(archivo.read_text())
        consultas[archivo.stem] = [t["expr"] for p in tablero["panels"] for t in p["targets"]]
    return consultas


def test_hay_tableros_de_ingesta_alertas_tiempo_real_y_despacho():
    consultas = _consultas_tableros()
    assert set(consultas) == {"ingesta", "alertas", "tiempo_real", "despacho"}
    assert all(len(c) >= 6 for c in consultas.values())


def test_cada_alerta_tiene_su_entrada_en_el_runbook():
    runbook = (RAIZ / "docs" / "runbook.md").read_text()
    titulos = {t.strip().lower() for t in re.findall(r"^## (\S+)", runbook, flags=re.M)}
    alertas = [r for r in _reglas() if "alert" in r]
    assert len(alertas) == 16
    for r in alertas:
        assert r["alert"].lower() in titulos, r["alert"]
        # Absolute, from the configured base (prometheus.yml's external label gad_docs).
        assert r["annotations"]["runbook_url"] == f"{{{{ $externalLabels.gad_docs }}}}/runbook.md#{r['alert'].lower()}"
        assert r["labels"]["severity"] in ("critical", "warning")


def test_cada_metrica_de_las_reglas_y_los_tableros_existe_en_un_metrics_vivo(transactional_db):
    from mapa.tasks import densidad_refrescar

    grabadas = {r["record"] for r in _reglas() if "record" in r}
    # Labelled series exist once used: one Celery task run (recorded in the shared multiprocess
    # directory, as a worker's would be), so the test does not depend on what ran before it.
    densidad_refrescar.apply()
    with daphne() as url:
        texto = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    # The samples' names (a counter's end in _total, a histogram's in _bucket/_sum/_count).
    existentes = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", texto, flags=re.M))
    assert len(existentes) > 50
    expresiones = [r["expr"] for r in _reglas()] + [e for c in _consultas_tableros().values() for e in c]
    faltan = set()
    for expr in expresiones:
        faltan.update(n for n in _NOMBRE.findall(expr) if n not in existentes)
        for usado in re.findall(r"\bgad:[a-z0-9_:]+", expr):
            assert usado in grabadas, usado
    assert not faltan, sorted(faltan)
