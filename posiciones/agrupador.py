"""Group commit for the ingest path, one per server process.

Concurrent requests hand their validated readings to this process's writers, which store them
with ONE call of `posiciones_registrar` (one transaction) per group and answer each request with
its own share of the result after that commit. A writer takes whatever has queued while it was
busy, so a lone phone waits for nothing and a burst is stored in a few transactions: the
database's per-transaction cost is shared, while the set-based engine costs about the same for 1
or 100 readings.

Isolation: a group that fails for a reason other than the database being unreachable is retried
request by request, so one request's problem never fails the others. Nothing is acknowledged
before its commit; when PostgreSQL is unreachable every request of the group gets
ServicioNoDisponible and the client retries with the same id_cliente (harmless)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connection

from efectivos.models import FuentePosicion
from gad_project.exceptions import ServicioNoDisponible
from posiciones import metrics
from posiciones.ingesta import resultado_parcial
from posiciones.services import LecturaNueva, ResultadoIngesta, posiciones_registrar

logger = logging.getLogger(__name__)


@dataclass
class _Pedido:
    lecturas: list[LecturaNueva]
    futuro: asyncio.Future[ResultadoIngesta]
    llegada: float


class Agrupador:
    def __init__(self, *, max_lecturas: int, escritores: int) -> None:
        self.max_lecturas = max_lecturas
        self.escritores = escritores
        self._cola: deque[_Pedido] = deque()
        self._hay: asyncio.Event | None = None
        self._tareas: list[asyncio.Task[None]] = []
        self._hilos = ThreadPoolExecutor(
            max_workers=escritores, thread_name_prefix="ingesta", initializer=_conexion_de_ingesta
        )

    async def registrar(self, lecturas: list[LecturaNueva]) -> ResultadoIngesta:
        """Store these readings in the next group; returns this request's part of the result."""
        if not lecturas:
            return ResultadoIngesta()
        loop = asyncio.get_running_loop()
        if self._hay is None:
            self._hay = asyncio.Event()
            self._tareas = [loop.create_task(self._escritor()) for _ in range(self.escritores)]
        pedido = _Pedido(lecturas, loop.create_future(), time.perf_counter())
        self._cola.append(pedido)
        self._hay.set()
        return await pedido.futuro

    async def _escritor(self) -> None:
        assert self._hay is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._cola:
                self._hay.clear()
                await self._hay.wait()
                continue
            grupo = [self._cola.popleft()]
            n = len(grupo[0].lecturas)
            while self._cola and n + len(self._cola[0].lecturas) <= self.max_lecturas:
                n += len(self._cola[0].lecturas)
                grupo.append(self._cola.popleft())
            try:
                resultados = await loop.run_in_executor(self._hilos, _grupo_registrar, grupo)
            except Exception as exc:  # noqa: BLE001 - every waiting request must hear of it
                if isinstance(exc, ServicioNoDisponible):
                    # What queued meanwhile would only wait out the same pool deadline again: a
                    # client hears of an outage within one DB_POOL_TIMEOUT, not several.
                    grupo.extend(self._cola)
                    self._cola.clear()
                for pedido in grupo:
                    if not pedido.futuro.done():
                        pedido.futuro.set_exception(exc)
                continue
            ahora = time.perf_counter()
            metrics.GRUPOS.observe(len(grupo))
            for pedido, resultado in zip(grupo, resultados, strict=True):
                metrics.ESPERA.observe(ahora - pedido.llegada)
                if pedido.futuro.done():  # the client went away
                    continue
                if isinstance(resultado, BaseException):
                    pedido.futuro.set_exception(resultado)
                else:
                    pedido.futuro.set_result(resultado)


def _conexion_de_ingesta() -> None:
    """A writer thread's default connection is the ingest's role (settings.DATABASES["ingesta"],
    row-level security lets it through by name), when the process has one."""
    from django.db import connections

    if "ingesta" in connections.settings:
        connections["default"] = connections["ingesta"]


def _grupo_registrar(grupo: list[_Pedido]) -> list[ResultadoIngesta | BaseException]:
    """Runs in a writer thread, with that thread's own database connection (from the pool)."""
    try:
        try:
            return _todo_junto(grupo)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("ingest: database unavailable (%s)", exc)
            raise ServicioNoDisponible("La base de datos no está disponible.") from exc
        except Exception:
            if len(grupo) == 1:
                raise
            logger.exception("ingest: a group of %d requests failed; retrying one by one", len(grupo))
        resultados: list[ResultadoIngesta | BaseException] = []
        for pedido in grupo:
            try:
                resultados.extend(_todo_junto([pedido]))
            except (OperationalError, InterfaceError) as exc:
                resultados.append(ServicioNoDisponible("La base de datos no está disponible."))
                logger.warning("ingest: database unavailable (%s)", exc)
            except Exception as exc:  # noqa: BLE001 - this request's own failure, reported to it
                resultados.append(exc)
        return resultados
    finally:
        # Back to the pool; a broken connection is discarded there and the next group gets a
        # fresh one once PostgreSQL answers again.
        connection.close()


def _todo_junto(grupo: list[_Pedido]) -> list[ResultadoIngesta | BaseException]:
    lecturas = [lec for pedido in grupo for lec in pedido.lecturas]
    resultado = posiciones_registrar(lecturas=lecturas, fuente=FuentePosicion.API)
    partes: list[ResultadoIngesta | BaseException] = []
    desde = 0
    for pedido in grupo:
        hasta = desde + len(pedido.lecturas)
        partes.append(resultado_parcial(resultado, desde, hasta))
        desde = hasta
    return partes
