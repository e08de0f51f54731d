"""Replay simulated shifts with known true paths through the real ingest and score every alert
against the truth (geocercas.verdad): precision, recall within one fix, km patrolled. Prints JSON.

    manage.py verdad_terreno [--escenario chico|turno] [--conservar]
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from geocercas import verdad


class Command(BaseCommand):
    help = "Mide las alertas contra la verdad de terreno (recorridos simulados conocidos)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--escenario", choices=sorted(verdad.ESCENARIOS), default="chico")
        parser.add_argument(
            "--confirmar", type=int, choices=range(1, 6), default=2, help="Lecturas para confirmar de sus geocercas."
        )
        parser.add_argument(
            "--conservar", action="store_true", help="No borrar la unidad, efectivos y geocercas creados."
        )

    def handle(self, *args: Any, **opciones: Any) -> None:
        resultado = verdad.correr(
            verdad.ESCENARIOS[opciones["escenario"]], confirmar=opciones["confirmar"], conservar=opciones["conservar"]
        )
        self.stdout.write(json.dumps(resultado, ensure_ascii=False, indent=2, default=str))
