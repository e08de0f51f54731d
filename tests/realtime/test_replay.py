"""Replay correctness: whatever the points at which a client disconnects and reconnects with
?desde=<last id>, once de-duplicated by id it has received exactly the events it may see, in id
order, with no gap, while events keep being published between its connections."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.models import Evento
from realtime.services import Publicacion, publish_many
from tests.conftest import CLAVE
from tests.vivo import conectar, recibir, ticket, ws_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.lento]

paso = st.tuples(
    st.lists(st.sampled_from(["admins", "propia", "ajena", "efectivo", "todas"]), max_size=5),  # events to publish
    st.integers(min_value=0, max_value=6),  # frames to read before dropping the connection
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pasos=st.lists(paso, min_size=1, max_size=4))
def test_reconexiones_al_azar_entregan_exactamente_lo_visible_en_orden(escenario, servidor, pasos):
    a, b = escenario.efectivo_a.unidad_id, escenario.efectivo_b.unidad_id
    audiencias = {
        "admins": ["rol.administrador"],
        "propia": ["rol.administrador", f"unidad.{a}"],
        "ajena": ["rol.administrador", f"unidad.{b}"],
        "efectivo": [f"unidad.{b}", f"efectivo.{escenario.efectivo_b.pk}"],
        "todas": ["rol.administrador", "rol.comandante"],
    }
    visibles_para_a = {"propia", "todas"}

    async def caso() -> tuple[list[int], list[int]]:
        recibidos: list[int] = []
        creados: list[tuple[int, bool]] = []

        async def sesion(desde: int | None, leer: int, esperar: float) -> None:
            params = {"ticket": await asyncio.to_thread(ticket, servidor, "comandante_a", CLAVE)}
            if desde is not None:
                params["desde"] = desde
            async with await conectar(ws_url(servidor, **params)) as ws:
                for _ in range(leer):
                    try:
                        mensaje = json.loads(await asyncio.wait_for(ws.recv(), esperar))
                    except TimeoutError:
                        return
                    # The client already holds everything up to its first cursor (replay re-sends a
                    # short reorder window before the cursor; ids make that harmless).
                    if "id" in mensaje and mensaje["id"] > cursor and mensaje["id"] not in recibidos:
                        recibidos.append(mensaje["id"])

        async with await conectar(
            ws_url(servidor, ticket=await asyncio.to_thread(ticket, servidor, "comandante_a", CLAVE))
        ) as ws:
            cursor = json.loads(await ws.recv())["datos"]["ultimo_id"]
        for nombres, leer in pasos:
            eventos = await asyncio.to_thread(
                _publicar, [Publicacion("prueba", {"n": i}, audiencias[n]) for i, n in enumerate(nombres)]
            )
            creados += [(e.id, n in visibles_para_a) for e, n in zip(eventos, nombres, strict=True)]
            await sesion(max([cursor, *recibidos]), leer, esperar=0.15)
        esperados = [i for i, visible in creados if visible]
        # Final catch-up: reconnect from the last id seen until everything visible has arrived.
        params = {
            "ticket": await asyncio.to_thread(ticket, servidor, "comandante_a", CLAVE),
            "desde": max([cursor, *recibidos]),
        }
        faltan = set(esperados) - set(recibidos)
        if faltan:
            async with await conectar(ws_url(servidor, **params)) as ws:
                frames = await recibir(ws, hasta=lambda fs: faltan <= {f.get("id") for f in fs}, timeout=10)
                recibidos += [f["id"] for f in frames if "id" in f and f["id"] > cursor and f["id"] not in recibidos]
        return recibidos, esperados

    recibidos, esperados = asyncio.run(caso())
    assert recibidos == esperados
    assert recibidos == sorted(recibidos)
    invisibles = set(
        Evento.objects.exclude(audiencia__overlap=[f"unidad.{a}", "rol.comandante"]).values_list("id", flat=True)
    )
    assert not invisibles & set(recibidos)


def _publicar(publicaciones: list[Publicacion]):
    try:
        return publish_many(publicaciones)
    finally:
        connection.close()  # back to the pool: this runs in a worker thread
