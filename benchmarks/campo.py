"""Field app delivery benchmark (issue: a field app for officers).

Target: an assignment, a message and a check-in request reach the field app's socket with
p95 <= 100 ms, at the realtime benchmark's background load (~500 readings/s streaming in).

One field officer's socket (a single-use ticket, as /campo/ opens it) on a real daphne over the
`gad_bench` database and the real Redis channel layer. Each round, in turn:
- assignment: the commander's `POST /tareas/{id}/asignar/` sent -> `tarea.asignada` received
  (the task is cancelled afterwards, so the officer is free for the next round);
- message: `POST /mensajes/` sent -> `mensaje.nuevo` received;
- check-in: the sweep (`bienestar_revisar`, what Celery beat runs) called -> `bienestar.pedido`
  received.

    .venv/bin/python benchmarks/campo.py [--rondas 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import websockets
from common import SONDA, Servidor, carga_de_fondo, percentiles, preparar_django, sembrar, token

CAMPO = ("bench-campo", "bench-campo-clave")


def _post(url: str, ruta: str, cuerpo, tok: str) -> dict:
    req = urllib.request.Request(
        f"{url}{ruta}",
        data=json.dumps(cuerpo).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {tok}"},
    )
    try:
        return json.loads(urllib.request.urlopen(req, timeout=10).read() or b"null")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{ruta}: {exc.code} {exc.read()[:300]!r}") from exc


def preparar_efectivo() -> tuple[int, int]:
    """A field officer with an account, available, fixed near the probe's zone."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from efectivos.models import Efectivo, Rol, Unidad, Usuario
    from seguridad.models import ControlBienestar

    usuario, _ = Usuario.objects.get_or_create(username=CAMPO[0], defaults={"rol": Rol.EFECTIVO})
    usuario.set_password(CAMPO[1])
    usuario.rol, usuario.is_active = Rol.EFECTIVO, True
    usuario.save()
    efectivo, _ = Efectivo.objects.update_or_create(
        codigo_interno="CAMPO",
        defaults={
            "dni": "CAMPO",
            "nombre": "Campo",
            "apellido": "Banco",
            "unidad": Unidad.objects.order_by("pk").first(),
            "usuario": usuario,
            "estado": "disponible",
            "ultima_posicion": Point(SONDA[0] + 0.01, SONDA[1], srid=4326),
            "ultima_posicion_en": timezone.now(),
        },
    )
    ControlBienestar.objects.filter(efectivo=efectivo).delete()
    from common import turnos_asegurar
    from django.db import connection

    with connection.cursor() as cursor:
        turnos_asegurar(cursor)  # on duty: their readings are stored
    return efectivo.pk, efectivo.unidad_id


def medir(url: str, tok: str, efectivo_id: int, unidad_id: int, ids: list[int], rondas: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from efectivos.models import Usuario
    from seguridad.models import ControlBienestar
    from seguridad.services import bienestar_iniciar, bienestar_revisar

    mando = tok
    campo = token(url, *CAMPO)
    ticket = _post(url, "/api/v1/ws/ticket/", {}, campo)["ticket"]
    esperando: dict[str, float] = {}  # what the socket waits for, and when it was sent
    latencias: dict[str, list[float]] = {"asignacion": [], "mensaje": [], "bienestar": []}
    # How long the action itself took (the request's answer, the sweep's return): the rest of the
    # latency is delivery (commit → event log → channel layer → socket).
    acciones: dict[str, list[float]] = {"asignacion": [], "mensaje": [], "bienestar": []}
    listo = threading.Event()
    parar = threading.Event()

    async def socket() -> None:
        ws_url = url.replace("http", "ws", 1) + f"/ws/eventos/?ticket={ticket}"
        async with websockets.connect(ws_url, max_size=None) as ws:
            listo.set()
            while not parar.is_set():
                try:
                    texto = await asyncio.wait_for(ws.recv(), 1)
                except TimeoutError:
                    continue
                llegada = time.perf_counter()
                f = json.loads(texto)
                if f["tipo"] == "ping":
                    await ws.send('{"tipo": "pong"}')
                clave = {
                    "tarea.asignada": "asignacion",
                    "mensaje.nuevo": "mensaje",
                    "bienestar.pedido": "bienestar",
                }.get(f["tipo"])
                enviado = esperando.pop(clave, None) if clave else None
                if enviado is not None:
                    latencias[clave].append((llegada - enviado) * 1000)

    hilo = threading.Thread(target=lambda: asyncio.run(socket()), daemon=True)
    hilo.start()
    listo.wait(10)

    def esperar(clave: str, accion) -> None:
        t = esperando[clave] = time.perf_counter()
        accion()
        acciones[clave].append((time.perf_counter() - t) * 1000)
        fin = time.monotonic() + 5
        while clave in esperando and time.monotonic() < fin:
            time.sleep(0.002)
        esperando.pop(clave, None)

    mando_usuario = Usuario.objects.get(username="bench")
    bienestar_iniciar(usuario=mando_usuario, intervalo_min=60, efectivo_id=efectivo_id)
    hilos = carga_de_fondo(url, tok, ids, parar)
    try:
        for i in range(rondas):
            tarea = _post(
                url,
                "/api/v1/tareas/",
                {"titulo": f"Banco {i}", "unidad": unidad_id, "lat": SONDA[1], "lon": SONDA[0] + 0.011},
                mando,
            )
            esperar(
                "asignacion",
                lambda t=tarea: _post(url, f"/api/v1/tareas/{t['id']}/asignar/", {"efectivos": [efectivo_id]}, mando),
            )
            _post(url, f"/api/v1/tareas/{tarea['id']}/cancelar/", {"motivo": "banco"}, mando)
            cuerpo = {"texto": f"Mensaje {i}", "efectivos": [efectivo_id]}
            esperar("mensaje", lambda c=cuerpo: _post(url, "/api/v1/mensajes/", c, mando))
            ControlBienestar.objects.filter(efectivo_id=efectivo_id, terminado_en__isnull=True).update(
                proximo_en=timezone.now() - timedelta(seconds=1), pedido_en=None, vence_en=None, estado="al_dia"
            )
            esperar("bienestar", bienestar_revisar)
            time.sleep(0.2)
    finally:
        parar.set()
        for h in hilos:
            h.join()
        hilo.join(5)
        connection.close()
    return {
        clave: {"n": len(v), "lat_ms": percentiles(v), "accion_ms": percentiles(acciones[clave])}
        for clave, v in latencias.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rondas", type=int, default=40)
    args = parser.parse_args()
    preparar_django()
    from efectivos.models import Efectivo

    sembrar(efectivos=10_000, geocercas=1_000)
    efectivo_id, unidad_id = preparar_efectivo()
    ids = list(Efectivo.objects.exclude(codigo_interno__in=["SONDA", "CAMPO"]).values_list("pk", flat=True)[:10_000])
    resultado = {"fecha": time.strftime("%Y-%m-%d %H:%M"), "maquina": f"{os.cpu_count()} cores, {platform.platform()}"}
    with Servidor("daphne") as srv:
        tok = token(srv.url)
        resultado["al_socket_de_campo_con_500_lecturas_s"] = medir(
            srv.url, tok, efectivo_id, unidad_id, ids, args.rondas
        )
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
