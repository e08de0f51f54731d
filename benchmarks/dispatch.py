"""Dispatch benchmark (issue: tasks and dispatch to the nearest available efectivos).

Targets, with 100,000 efectivos: nearest 5 available to a point, database p95 <= 1 ms and HTTP
p95 <= 10 ms; the same question asked the naive way (ORDER BY ST_Distance, no index operator):
report the ratio (aim >= 100x); refreshing the per-unidad materialized view <= 1 s.

Closing the loop (issue: dispatch that closes the loop): the timeout sweep at 1,000 open tasks
(one index-assisted query; its EXPLAIN in `redespacho_explain.txt`) and re-dispatch latency,
release -> the next assignment committed and published, p95 <= 50 ms.

    .venv/bin/python benchmarks/dispatch.py [--consultas 300] [--solo redespacho]
"""

from __future__ import annotations

import argparse
import http.client as httpcliente
import json
import os
import platform
import random
import time

from common import ZONA, Servidor, percentiles, preparar_django, sembrar, token

NAIVE = """
SELECT e.id, ST_Distance(e.ultima_posicion::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography) AS d
FROM efectivos_efectivo e
WHERE e.estado = 'disponible' AND e.ultima_posicion IS NOT NULL AND e.ultima_posicion_en >= %(fix_desde)s
ORDER BY d LIMIT 5
"""


def _ejecucion_ms(cursor, sql: str, params: dict) -> tuple[float, list[str]]:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan = [fila[0] for fila in cursor.fetchall()]
    return next(float(f.split(":")[1].split()[0]) for f in plan if f.startswith("Execution Time")), plan


def base_de_datos(consultas: int) -> dict:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from tareas import selectors

    rnd = random.Random(9)
    # Fresh fixes for everyone, so the staleness filter keeps them all in play.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE efectivos_efectivo SET ultima_posicion_en = now() - random() * interval '5 minutes'")
        cursor.execute("VACUUM ANALYZE efectivos_efectivo")
    knn, naive, ida_y_vuelta = [], [], []
    sql_knn = selectors._SQL_CERCANOS.format(bloqueo="")
    plan_knn = []
    with connection.cursor() as cursor:
        for i in range(consultas):
            params = {
                "lat": rnd.uniform(ZONA[1], ZONA[3]),
                "lon": rnd.uniform(ZONA[0], ZONA[2]),
                "k": 5,
                "unidad": None,
                "radio": None,
                "especialidad": None,
                "excluir": [],
                "fix_desde": timezone.now() - timedelta(minutes=15),
            }
            ms, plan = _ejecucion_ms(cursor, sql_knn, params)
            knn.append(ms)
            plan_knn = plan_knn or plan
            if i < 30:  # the naive query is slow: a sample is enough for the ratio
                naive.append(_ejecucion_ms(cursor, NAIVE, params)[0])
            t = time.perf_counter()
            selectors.efectivos_cercanos(lat=params["lat"], lon=params["lon"], k=5)
            ida_y_vuelta.append((time.perf_counter() - t) * 1000)
    from pathlib import Path

    Path(__file__).with_name("dispatch_explain.txt").write_text("\n".join(plan_knn) + "\n")
    p_knn, p_naive = percentiles(knn), percentiles(naive)
    return {
        "knn_ejecucion_ms": p_knn,
        "knn_ida_y_vuelta_ms": percentiles(ida_y_vuelta),
        "knn_usa_indice": any("efectivo_geog_disponible_gist" in f for f in plan_knn),
        "ingenua_ejecucion_ms": p_naive,
        "razon_p50_ingenua_sobre_knn": round(p_naive["p50"] / p_knn["p50"]),
    }


def vista_materializada() -> dict:
    from tareas.services import estadisticas_refrescar

    tiempos = []
    for _ in range(5):
        t = time.perf_counter()
        estadisticas_refrescar()
        tiempos.append((time.perf_counter() - t) * 1000)
    return {"refresco_ms": percentiles(tiempos)}


def asignar(veces: int = 100) -> dict:
    """The assignment with and without the audit trail, in the same run: what auditing costs."""
    from unittest import mock

    from auditlog.context import disable_auditlog

    con = _asignar(veces)
    with (
        disable_auditlog(),
        mock.patch("tareas.services.despacho.entradas_registrar"),
        mock.patch("tareas.services.despacho.en_bloque"),
        mock.patch("tareas.services.estados.en_bloque"),
    ):
        sin = _asignar(veces)
    return {"asignar_2_cercanos_ms": con, "asignar_2_cercanos_sin_auditoria_ms": sin}


def _asignar(veces: int) -> dict:
    """The whole write: create a task at a random point and assign its 2 nearest available
    efectivos (claim, assignments, states, history, events, audit records), in one transaction;
    then cancel it so the efectivos are free again (not timed)."""
    from django.db import transaction

    from efectivos.models import Efectivo, Usuario
    from tareas import services

    admin = Usuario.objects.get(username="bench")
    unidad_id = Efectivo.objects.values_list("unidad_id", flat=True).first()
    rnd = random.Random(9)
    tiempos = []
    for _ in range(veces):
        tarea = services.tarea_crear(
            usuario=admin,
            titulo="Bench",
            unidad_id=unidad_id,
            lat=rnd.uniform(ZONA[1], ZONA[3]),
            lon=rnd.uniform(ZONA[0], ZONA[2]),
        )
        t = time.perf_counter()
        with transaction.atomic():
            services.tarea_asignar(tarea_id=tarea.pk, usuario=admin, cercanos=2)
        tiempos.append((time.perf_counter() - t) * 1000)
        services.tarea_transicionar(tarea_id=tarea.pk, accion="cancelar", usuario=admin, motivo="bench")
    return percentiles(tiempos)


BUSCAR_VENCIDAS = """
SELECT tarea_id FROM tareas_asignacion
WHERE estado = 'pendiente' AND vence_en <= now()
ORDER BY vence_en LIMIT 500
"""


def redespacho(tareas: int = 1_000, vencidas: int = 60) -> dict:
    """1,000 open tasks, each with a pending assignment; `vencidas` of them past their deadline.
    The sweep's finder is timed and explained; then the sweep runs one task at a time (lote=1),
    each call = release the late assignee + dispatch the next nearest + publish: the latency the
    officer who gets the task sees, minus the socket."""
    from datetime import timedelta
    from pathlib import Path

    from django.db import connection
    from django.utils import timezone

    from efectivos.models import Efectivo, Usuario
    from tareas import services
    from tareas.models import Asignacion, Tarea

    admin = Usuario.objects.get(username="bench")
    unidad_id = Efectivo.objects.values_list("unidad_id", flat=True).first()
    abiertas = list(
        Tarea.objects.filter(titulo="Bench redespacho", estado__in=["asignada", "programada"]).values_list(
            "pk", flat=True
        )
    )
    for pk in abiertas:
        services.tarea_transicionar(tarea_id=pk, accion="cancelar", usuario=admin, motivo="bench")
    # Everyone on duty with a fresh fix (the seed's fixes age past DESPACHO_FIX_MAX_MIN).
    Efectivo.objects.exclude(codigo_interno__in=["SONDA", "CAMPO"]).update(
        ultima_posicion_en=timezone.now(), estado="disponible"
    )
    rnd = random.Random(11)
    creadas = []
    for _ in range(tareas):
        tarea = services.tarea_crear(
            usuario=admin,
            titulo="Bench redespacho",
            unidad_id=unidad_id,
            lat=rnd.uniform(ZONA[1], ZONA[3]),
            lon=rnd.uniform(ZONA[0], ZONA[2]),
        )
        services.tarea_asignar(tarea_id=tarea.pk, usuario=admin, cercanos=1)
        creadas.append(tarea.pk)
    atrasadas = creadas[:vencidas]
    Asignacion.objects.filter(tarea_id__in=atrasadas, estado="pendiente").update(
        vence_en=timezone.now() - timedelta(seconds=5)
    )
    with connection.cursor() as cursor:
        tiempos = []
        for _ in range(50):
            ms, plan = _ejecucion_ms(cursor, BUSCAR_VENCIDAS, {})
            tiempos.append(ms)
    Path(__file__).with_name("redespacho_explain.txt").write_text("\n".join(plan) + "\n")
    latencias = []
    for _ in range(vencidas):
        t = time.perf_counter()
        hechas = services.asignaciones_vencer(lote=1)
        latencias.append((time.perf_counter() - t) * 1000)
        assert hechas == 1
    rellenas = Asignacion.objects.filter(tarea_id__in=atrasadas, estado="pendiente").count()
    for pk in creadas:
        services.tarea_transicionar(tarea_id=pk, accion="cancelar", usuario=admin, motivo="bench")
    return {
        "redespacho": {
            "tareas_abiertas": tareas,
            "vencidas": vencidas,
            "rellenadas": rellenas,
            "buscar_vencidas_db_ms": percentiles(tiempos),
            "usa_indice": any("asignacion_pendiente_vence" in linea for linea in plan),
            "liberar_y_redespachar_ms": percentiles(latencias),
        }
    }


def http(consultas: int, tipo: str = "uvicorn") -> dict:
    """`GET /api/v1/efectivos/cercanos/?k=5` over HTTP on one server process (uvicorn serves HTTP in
    `make run`; daphne the sockets), one client: a JWT client (the lean path, tareas.asgi)
    alternating query by query with a browser session (the same question through Django and DRF,
    the view the lean path mirrors): the second is the same-run reference."""
    from django.db import connection
    from tiles import sesion

    with connection.cursor() as cursor:  # fresh fixes, as base_de_datos leaves them
        cursor.execute("UPDATE efectivos_efectivo SET ultima_posicion_en = now() - random() * interval '5 minutes'")
        cursor.execute("VACUUM ANALYZE efectivos_efectivo")
    rnd = random.Random(4)
    with Servidor(tipo) as srv:
        tok = token(srv.url)
        cookie = sesion(srv.url, "bench", "bench-clave")
        tiempos: dict[str, list[float]] = {"jwt": [], "sesion": []}
        # One kept-alive connection per client, as a browser's or a phone's: the figure is the
        # server's, not a TCP handshake's.
        conexiones = {via: httpcliente.HTTPConnection("127.0.0.1", srv.puerto, timeout=10) for via in tiempos}
        for i in range(consultas + 20):
            ruta = f"/api/v1/efectivos/cercanos/?lat={rnd.uniform(ZONA[1], ZONA[3]):.6f}&lon={rnd.uniform(ZONA[0], ZONA[2]):.6f}&k=5"
            for via, cabeceras in (("jwt", {"Authorization": f"Bearer {tok}"}), ("sesion", {"Cookie": cookie})):
                t = time.perf_counter()
                conexiones[via].request("GET", ruta, headers=cabeceras)
                cuerpo = json.loads(conexiones[via].getresponse().read())
                if i >= 20:  # warm-up excluded
                    tiempos[via].append((time.perf_counter() - t) * 1000)
                assert len(cuerpo) == 5, (via, cuerpo)
    sufijo = "" if tipo == "uvicorn" else f"_{tipo}"
    return {
        f"http_cercanos_ms{sufijo}": percentiles(tiempos["jwt"]),
        f"http_cercanos_por_django_ms{sufijo}": percentiles(tiempos["sesion"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consultas", type=int, default=300)
    parser.add_argument(
        "--solo", choices=["redespacho", "http"], help="only this part (the rest needs 100,000 efectivos)"
    )
    args = parser.parse_args()
    preparar_django()
    if args.solo == "http":
        resultado = {"fecha": time.strftime("%Y-%m-%d %H:%M"), "datos": sembrar(efectivos=100_000, geocercas=1_000)}
        resultado.update(http(args.consultas))
        resultado.update(http(args.consultas, "daphne"))
        print(json.dumps(resultado, indent=2, ensure_ascii=False))
        return
    if args.solo == "redespacho":
        resultado = {"fecha": time.strftime("%Y-%m-%d %H:%M"), "datos": sembrar(efectivos=10_000, geocercas=1_000)}
        resultado.update(redespacho())
        print(json.dumps(resultado, indent=2, ensure_ascii=False))
        return
    resultado = {
        "fecha": time.strftime("%Y-%m-%d %H:%M"),
        "maquina": f"{os.cpu_count()} cores, {platform.platform()}",
        "datos": sembrar(efectivos=100_000, geocercas=1_000),
    }
    resultado.update(base_de_datos(args.consultas))
    resultado.update(vista_materializada())
    resultado.update(asignar())
    resultado.update(redespacho())
    resultado.update(http(args.consultas))
    resultado.update(http(args.consultas, "daphne"))
    print(json.dumps(resultado, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
