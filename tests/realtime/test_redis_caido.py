"""Redis really stopped for several seconds while readings keep arriving, then started again:
no reading is lost, and every alert reaches the commander's socket exactly once (after dedup by
id), by replay from PostgreSQL once the client can reconnect."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from efectivos.models import Posicion
from geocercas.models import Alerta
from realtime.cliente import Cliente
from realtime.models import Evento
from tests.conftest import CLAVE
from tests.realtime.conftest import lectura
from tests.vivo import TIEMPO_COMPRIMIDO, RedisPropio, daphne, post_json, token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.lento]
TIPOS_ALERTA = ("alerta.geocerca", "alerta.repetida")


def test_redis_se_cae_y_vuelve_sin_perder_lecturas_ni_alertas(escenario, tmp_path):
    redis = RedisPropio(tmp_path)
    redis.iniciar()
    try:
        with daphne(REDIS_URL=redis.url, **TIEMPO_COMPRIMIDO) as url:
            recibidos: list[dict] = []
            fin = threading.Event()
            cliente = Cliente(url, "comandante_a", CLAVE, al_recibir=recibidos.append)
            hilo = threading.Thread(target=lambda: asyncio.run(cliente.correr(hasta=fin.is_set)), daemon=True)
            hilo.start()
            _esperar(lambda: cliente.ultimo_id >= 0, "first connection")

            admin = token(url, "admin", CLAVE)
            enviadas = 0
            t0 = time.monotonic()
            paso = 0
            while time.monotonic() - t0 < 9:
                fase = time.monotonic() - t0
                if 2 <= fase < 6 and redis.proc is not None:
                    redis.detener()  # down for ~4 s while readings keep coming
                if fase >= 6 and redis.proc is None:
                    redis.iniciar()
                paso += 1
                estado, cuerpo = post_json(
                    f"{url}/api/v1/posiciones/",
                    lectura(escenario.efectivo_a.pk, dentro=paso % 2 == 0, segundos=paso * 0.01),
                    admin,
                )
                assert estado == 201, cuerpo
                enviadas += 1
                time.sleep(0.05)

            # In and out all along: one open alert, every entry after the first a repeat on it;
            # each is an event the commander must get.
            [alerta] = Alerta.objects.all()
            assert alerta.repeticiones >= 20
            alertas = set(Evento.objects.filter(tipo__in=TIPOS_ALERTA).values_list("pk", flat=True))
            assert len(alertas) == alerta.repeticiones

            def alertas_recibidas() -> set[int]:
                return {f["id"] for f in recibidos if f["tipo"] in TIPOS_ALERTA}

            _esperar(lambda: alertas_recibidas() >= alertas, "every alert after Redis is back", timeout=30)
            fin.set()
            hilo.join(timeout=15)
    finally:
        redis.detener()

    assert Posicion.objects.count() == enviadas  # 0 readings lost
    assert alertas_recibidas() == alertas
    ids = [f["id"] for f in recibidos]
    assert len(ids) == len(set(ids))  # none twice once de-duplicated by id
    assert cliente.reconexiones >= 1  # the socket really dropped and came back


def _esperar(condicion, que: str, timeout: float = 15) -> None:
    fin = time.monotonic() + timeout
    while time.monotonic() < fin:
        if condicion():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {que}")
