"""A black-box fuzzer on the served API: schemathesis, driven by our own OpenAPI document, against
real uvicorn (the lean ingest path included) on the test database, once per role.

It fails on any 5xx, on a response that does not match its documented schema, on an undocumented
status code and on an undocumented content type. Bounded: 20 examples per operation and role,
a fixed seed (a new finding is reproducible with the printed `st replay`/curl), and a time limit."""

from __future__ import annotations

import re
import subprocess
import urllib.request

import pytest
from django.contrib.gis.geos import Point
from rest_framework_simplejwt.tokens import RefreshToken

from tests import vivo
from tests.factories import (
    CENTRO,
    AlertaFactory,
    EfectivoFactory,
    GeocercaFactory,
    TareaFactory,
    desplazar,
)

# Not `lento`: four independent servers of their own, bounded in time; they run on the parallel
# workers of `make test` (the `lento` tests run alone afterwards).
pytestmark = [pytest.mark.django_db(transaction=True)]

CHEQUEOS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
EJEMPLOS = 15
SEMILLA = 20261201


@pytest.fixture
def servidor(unidad_a, unidad_b, admin, comandante_a, efectivo):
    """Enough data in both unidades that lists, filters, dispatch and alerts have something to do."""
    cerca = [
        EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=100 * i), srid=4326))
        for i in range(5)
    ]
    EfectivoFactory.create_batch(3, unidad=unidad_b)
    geocerca = GeocercaFactory()
    geocerca.unidades.set([unidad_a])
    for estado in ("programada", "asignada", "en_curso", "finalizada"):
        TareaFactory(unidad=unidad_a, estado=estado)
    TareaFactory(unidad=unidad_b)
    for tipo in ("entrada", "salida", "permanencia"):  # one open alert per (efectivo, geocerca, tipo)
        AlertaFactory(efectivo=cerca[0], geocerca=geocerca, tipo=tipo)
    with vivo.uvicorn(workers=1) as url:
        yield url


def _fuzz(url: str, token: str | None, nombre: str) -> str:
    comando = [
        str(vivo.RAIZ / ".venv/bin/st"),
        "run",
        f"{url}/api/schema/?format=json",
        "--checks",
        CHEQUEOS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EJEMPLOS),
        "--seed",
        str(SEMILLA),
        "--workers",
        "2",
        "--no-shrink",
        "--no-color",
        "--request-timeout",
        "15",
        "--generation-database",
        "none",
    ]
    if token:
        comando += ["--header", f"Authorization: Bearer {token}"]
    # Its own client address, so that its sign-in attempts (throttled) do not count against the
    # other tests' (the proxy count is 1: the last X-Forwarded-For entry is the client).
    comando += ["--header", f"X-Forwarded-For: 10.99.0.{abs(hash(nombre)) % 250 + 1}"]
    registro = vivo.RAIZ / ".run" / "logs" / f"test-fuzz-{nombre}.log"
    registro.parent.mkdir(parents=True, exist_ok=True)
    for _intento in range(2):
        proc = subprocess.run(comando, cwd=vivo.RAIZ / ".run", capture_output=True, text=True, timeout=300)
        registro.write_text(proc.stdout + proc.stderr)
        salida = proc.stdout
        # A crash of the tool itself (seen once: CPython 3.11's "AST constructor recursion depth
        # mismatch" in one of its worker threads) is reported as an error, not a failure of the
        # API: run once more. A finding about the API is never retried.
        if proc.returncode == 0 or "Failures:" in salida or "Runtime Error" not in salida:
            break
    assert proc.returncode == 0, f"schemathesis ({nombre}) found failures; see {registro}:\n{salida[-6000:]}"
    return salida


@pytest.mark.parametrize("rol", ["administrador", "comandante", "efectivo", "anonimo"])
def test_el_fuzzer_no_encuentra_errores_por_rol(servidor, admin, comandante_a, efectivo, rol):
    usuario = {"administrador": admin, "comandante": comandante_a, "efectivo": efectivo.usuario}.get(rol)
    token = str(RefreshToken.for_user(usuario).access_token) if usuario else None
    if token:  # the token really opens the API: a run of 401s would prove nothing
        pedido = urllib.request.Request(f"{servidor}/api/v1/tareas/", headers={"Authorization": f"Bearer {token}"})
        assert urllib.request.urlopen(pedido, timeout=10).status == 200
    salida = _fuzz(servidor, token, rol)
    seleccionadas = re.search(r"Selected: (\d+)/(\d+)", salida)
    probadas = re.search(r"Tested: (\d+)", salida)
    assert seleccionadas and probadas, salida[-3000:]
    assert int(probadas.group(1)) == int(seleccionadas.group(2)) >= 30, salida[-3000:]
