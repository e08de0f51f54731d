"""Telegram bot command latency (issue: the Telegram bot). Target: p95 <= 300 ms.

The real bot process (`manage.py run_telegram_bot`, long polling) against the local fake Telegram
server of the tests, on the bench database. Each command is sent alone and timed from the moment
the fake server hands the update to the bot until the bot's last reply for it arrives.

    .venv/bin/python benchmarks/bot.py [--comandos 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from common import RAIZ, percentiles, preparar_django, sembrar

AQUI = Path(__file__).resolve().parent
TG = 990001


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comandos", type=int, default=300)
    args = parser.parse_args()
    preparar_django()
    sembrar(efectivos=10_000, geocercas=1_000)
    import sys

    sys.path.insert(0, str(RAIZ))
    from efectivos.models import Efectivo, EstadoEfectivo, Usuario
    from tareas import services as tareas_services
    from tareas.models import Tarea
    from tests.telegram_falso import TelegramFalso, bot_en_marcha

    usuario, _ = Usuario.objects.get_or_create(username="bench.bot", defaults={"rol": "efectivo"})
    Usuario.objects.filter(telegram_id=TG).exclude(pk=usuario.pk).update(telegram_id=None)
    usuario.telegram_id = TG
    usuario.save()
    efectivo = Efectivo.objects.filter(usuario=usuario).first()
    if efectivo is None:
        efectivo = Efectivo.objects.filter(usuario__isnull=True).order_by("id").first()
        efectivo.usuario = usuario
        efectivo.save(update_fields=["usuario"])
    Efectivo.objects.filter(pk=efectivo.pk).update(estado=EstadoEfectivo.DISPONIBLE)
    admin = Usuario.objects.get(username="bench")
    abiertas = Tarea.objects.filter(asignaciones__efectivo=efectivo, estado__in=["asignada", "en_curso"]).count()
    for i in range(max(0, 3 - abiertas)):
        t = tareas_services.tarea_crear(usuario=admin, titulo=f"Bench bot {i}", unidad_id=efectivo.unidad_id)
        tareas_services.tarea_asignar(tarea_id=t.pk, usuario=admin, efectivos=[efectivo.pk])
        Efectivo.objects.filter(pk=efectivo.pk).update(estado=EstadoEfectivo.DISPONIBLE)

    lat, lon = efectivo.ultima_posicion.y, efectivo.ultima_posicion.x
    por_comando: dict[str, list[float]] = {}
    with TelegramFalso() as falso, bot_en_marcha(falso, LOG_LEVEL="ERROR"):
        plan = ["/tareas", "/ayuda", "/estado", "ubicacion"]
        for i in range(args.comandos + len(plan)):  # the first round warms up
            comando = plan[i % len(plan)]
            antes = len(falso.llamadas_a("sendMessage", chat_id=TG))
            esperadas = 3 if comando == "/tareas" else 1
            inicio = time.monotonic()
            if comando == "ubicacion":
                falso.ubicacion(TG, lat + i * 1e-6, lon)
            else:
                falso.mensaje(TG, comando)
            falso.esperar("sendMessage", antes + esperadas, timeout=30, chat_id=TG)
            fin = max(t for m, p, t in falso.llamadas if m == "sendMessage" and str(p.get("chat_id")) == str(TG))
            if i >= len(plan):
                por_comando.setdefault(comando, []).append((fin - inicio) * 1000)
    todos = [v for vs in por_comando.values() for v in vs]
    resultado = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{platform.machine()}, {os.cpu_count()} cores",
        "comandos": len(todos),
        "ms_todos": percentiles(todos),
        "ms_por_comando": {k: percentiles(v) for k, v in por_comando.items()},
    }
    (AQUI / "resultados_bot.json").write_text(json.dumps(resultado, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
