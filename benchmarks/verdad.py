"""Alerts against ground truth (issue: alerts that tell the truth). Replays simulated shifts whose
true paths are known through the real ingest, with GPS faults, and scores every alert
(geocercas.verdad): precision and recall within one fix, overall and per kind (targets >= 0.99
each), and the unidad report's kilometres against the true path (target within 2 %). Runs the
scenario with the fences asking for 2 readings in a row (as recommended) and with 1 (what a single
fix believes), on the bench database.

    .venv/bin/python benchmarks/verdad.py [--escenario turno|chico] [--confirmar 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from common import preparar_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--escenario", default="turno")
    parser.add_argument("--confirmar", type=int, action="append", help="readings to confirm (default: 2 and 1)")
    args = parser.parse_args()
    preparar_django()
    from geocercas import verdad

    resultado: dict = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{os.cpu_count()} cores, {platform.platform()}",
    }
    for confirmar in args.confirmar or (2, 1):
        r = verdad.correr(verdad.ESCENARIOS[args.escenario], confirmar=confirmar)
        resultado[f"confirmar_{confirmar}"] = r
    Path(__file__).with_name("resultados_verdad.json").write_text(json.dumps(resultado, indent=2, ensure_ascii=False))
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
