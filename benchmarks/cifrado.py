"""Encryption at rest (#30): what decrypting a page of 100 efectivos costs (their DNIs), in the
ORM as the admin's list loads them, against the same page with the DNI deferred (same run).
Target: <= 5 ms per page. Prints JSON.

    .venv/bin/python benchmarks/cifrado.py
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
    print(
        json.dumps(
            {
                "pagina_100_con_dni_ms_p50": round(statistics.median(con), 3),
                "pagina_100_sin_dni_ms_p50": round(statistics.median(sin), 3),
                "descifrar_en_la_pagina_ms": round(statistics.median(con) - statistics.median(sin), 3),
                "descifrar_100_solo_ms_p50": round(statistics.median(solo), 3),
                "objetivo_ms": 5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
