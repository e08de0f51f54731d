"""Privacy's costs (#30), each against itself without the feature in the same run. Prints JSON.

- Encryption at rest: decrypting a page of 100 efectivos (their DNIs) as the admin's list loads
  them, against the same page with the DNI deferred, and 100 decryptions alone. Target <= 5 ms.
- The duty check: one reading at a time through the ingest service (posiciones_registrar, as a
  phone's request ends up), the check on (SERVICIO_EXIGIDO) and off, interleaved. Target <= 5 %.
- Row-level security: the same single readings as the ingest's writers run them (their role,
  gad_ingesta), and the map's snapshot for a commander (mapa.selectors.mapa_inicial) as the web
  servers run it (gad_app, under the policies, the commander's context), each against the owner
  (no policies), interleaved, each role on a connection of its own. Target <= 5 %.

    .venv/bin/python benchmarks/privacidad.py
"""

from __future__ import annotations

import json
import statistics
import time

from common import preparar_django


def main() -> None:
    preparar_django()
    from efectivos.models import Efectivo
    from gad_project import cifrado

    qs = Efectivo.objects.select_related("unidad").order_by("pk")
    assert qs.count() >= 100, "the bench database has fewer than 100 efectivos"

    def medir(hacer, veces: int = 60) -> list[float]:
        hacer()  # warm
        muestras = []
        for _ in range(veces):
            t = time.perf_counter()
            hacer()
            muestras.append((time.perf_counter() - t) * 1000)
        return muestras

    con = medir(lambda: [e.dni for e in qs[:100]])
    sin = medir(lambda: list(qs.defer("dni")[:100]))
    tokens = [cifrado.cifrar(f"{30_000_000 + i}") for i in range(100)]
    solo = medir(lambda: [cifrado.descifrar(t) for t in tokens])
    servicio = _servicio()
    pared = _pared()
    print(
        json.dumps(
            {
                "pagina_100_con_dni_ms_p50": round(statistics.median(con), 3),
                "pagina_100_sin_dni_ms_p50": round(statistics.median(sin), 3),
                "descifrar_en_la_pagina_ms": round(statistics.median(con) - statistics.median(sin), 3),
                "descifrar_100_solo_ms_p50": round(statistics.median(solo), 3),
                "objetivo_ms": 5,
                **servicio,
                **pared,
            },
            indent=2,
        )
    )


def _servicio(lecturas: int = 400) -> dict:
    """One reading per call for on-duty efectivos, the duty check on and off, alternating."""
    import uuid
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from efectivos.models import Efectivo
    from posiciones.services import LecturaNueva, posiciones_registrar

    ids = list(
        Efectivo.objects.filter(turnos__fin__gt=timezone.now()).order_by("pk").values_list("pk", flat=True)[:lecturas]
    )
    tiempos: dict[bool, list[float]] = {True: [], False: []}
    guardadas = 0
    for k, eid in enumerate(ids * 2):
        exigido = k % 2 == 0
        settings.SERVICIO_EXIGIDO = exigido
        lectura = LecturaNueva(uuid.uuid4(), eid, -34.6, -58.4, timezone.now() - timedelta(seconds=1), 10.0)
        t = time.perf_counter()
        r = posiciones_registrar(lecturas=[lectura])
        tiempos[exigido].append((time.perf_counter() - t) * 1000)
        guardadas += r.aceptadas
    con, sin = statistics.median(tiempos[True]), statistics.median(tiempos[False])
    return {
        "lectura_con_control_de_servicio_ms_p50": round(con, 3),
        "lectura_sin_control_de_servicio_ms_p50": round(sin, 3),
        "control_de_servicio_costo_pct": round(100 * (con - sin) / sin, 1),
        "lecturas_guardadas": guardadas,
        "lecturas": len(ids) * 2,
    }


def _pared(veces: int = 400) -> dict:
    """Alternating the runtime role (under the policies) and the owner, each on a connection of its
    own as in production (one role per server: switching roles on one connection would re-plan
    every prepared statement at each switch)."""
    import uuid
    from datetime import timedelta

    from django.conf import settings
    from django.db import connections, transaction
    from django.utils import timezone

    from efectivos.models import Efectivo, Usuario
    from gad_project import rls
    from mapa.selectors import mapa_inicial
    from mapa.tiles import alcance_teselas
    from posiciones.services import LecturaNueva, posiciones_registrar

    comandante = Usuario.objects.filter(rol="comandante", is_active=True).order_by("pk").first()
    assert comandante is not None, "the bench database has no commander"
    alcance = alcance_teselas(comandante)
    ids = list(
        Efectivo.objects.filter(turnos__fin__gt=timezone.now()).order_by("pk").values_list("pk", flat=True)[:veces]
    )
    settings.SERVICIO_EXIGIDO = True
    propia = connections["default"]
    ajustes = {**propia.settings_dict, "USER": settings.DB_USUARIO_WEB, "PASSWORD": settings.DB_CLAVE_WEB}
    web = propia.__class__(ajustes, alias="web")  # a pool of its own
    connections["web"] = web
    # The ingest's writers connect as their own role (posiciones.agrupador).
    ajustes_ingesta = {**ajustes, "USER": settings.DB_USUARIO_INGESTA, "PASSWORD": settings.DB_CLAVE_INGESTA}
    ingesta = propia.__class__(ajustes_ingesta, alias="ingesta")
    connections["ingesta"] = ingesta

    def como(muro: bool, rol=web) -> None:
        connections["default"] = rol if muro else propia

    lectura_ms: dict[bool, list[float]] = {True: [], False: []}
    mapa_ms: dict[bool, list[float]] = {True: [], False: []}
    tamanos: dict[bool, int] = {}
    with rls.usar(rls.de_usuario(comandante)):
        for k, eid in enumerate(ids * 2):
            muro = k % 2 == 0
            como(muro, ingesta)
            lectura = LecturaNueva(uuid.uuid4(), eid, -34.6, -58.4, timezone.now() - timedelta(seconds=1), 10.0)
            t = time.perf_counter()
            posiciones_registrar(lecturas=[lectura])
            lectura_ms[muro].append((time.perf_counter() - t) * 1000)
            if k % 8 < 2:
                como(muro)
                t = time.perf_counter()
                with transaction.atomic():  # as the view runs it
                    tamanos[muro] = len(mapa_inicial(usuario=comandante, alcance=alcance))
                mapa_ms[muro].append((time.perf_counter() - t) * 1000)
    como(False)
    assert tamanos[True] == tamanos[False], "the wall changed the commander's snapshot"

    def costo(m: dict[bool, list[float]]) -> tuple[float, float, float]:
        con, sin = statistics.median(m[True]), statistics.median(m[False])
        return round(con, 3), round(sin, 3), round(100 * (con - sin) / sin, 1)

    lc, ls, lp = costo(lectura_ms)
    mc, ms, mp = costo(mapa_ms)
    return {
        "rls_lectura_con_ms_p50": lc,
        "rls_lectura_sin_ms_p50": ls,
        "rls_lectura_costo_pct": lp,
        "rls_mapa_comandante_con_ms_p50": mc,
        "rls_mapa_comandante_sin_ms_p50": ms,
        "rls_mapa_costo_pct": mp,
        "rls_mapa_bytes": tamanos[True],
        "rls_mapa_muestras": len(mapa_ms[True]),
    }


if __name__ == "__main__":
    main()
