"""An open-loop HTTP load generator: requests leave on a fixed schedule (rate per second), whatever
the server's answers do, each on a free keep-alive connection (a new one when none is free), and
latency is counted from the scheduled instant, so a slow server cannot hide its queueing the way a
closed loop of N connections does (there, latency is just N / rate)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

_LARGO = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_TROZOS = re.compile(rb"(?i)\r\ntransfer-encoding:\s*chunked")


class Conexion:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def abrir(cls, host: str, puerto: int) -> Conexion:
        return cls(*await asyncio.open_connection(host, puerto))

    async def pedir(self, datos: bytes) -> int:
        """Send one request, read the whole answer; returns its status."""
        self.writer.write(datos)
        cabeza = await self.reader.readuntil(b"\r\n\r\n")
        m = _LARGO.search(cabeza)
        if m:
            await self.reader.readexactly(int(m.group(1)))
        elif _TROZOS.search(cabeza):
            while True:
                largo = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                await self.reader.readexactly(largo + 2)
                if largo == 0:
                    break
        return int(cabeza[9:12])

    def cerrar(self) -> None:
        self.writer.close()


def post(ruta: str, cuerpo: bytes, token: str, host: str = "127.0.0.1") -> bytes:
    return (
        f"POST {ruta} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(cuerpo)}\r\n\r\n"
    ).encode() + cuerpo


async def abierto(
    host: str, puerto: int, *, tasa: float, segundos: float, pedido: Callable[[], bytes], max_conexiones: int = 256
) -> dict:
    """Offer `tasa` requests/s for `segundos`; returns latencies (ms) and status counts."""
    libres: list[Conexion] = []
    abiertas = 0
    latencias: list[float] = []
    estados: dict[int, int] = {}
    errores = 0
    loop = asyncio.get_running_loop()

    async def uno(programada: float, datos: bytes) -> None:
        nonlocal abiertas, errores
        if libres:
            con = libres.pop()
        elif abiertas < max_conexiones:
            abiertas += 1
            con = await Conexion.abrir(host, puerto)
        else:
            errores += 1  # the server fell so far behind that every connection is busy
            return
        try:
            estado = await con.pedir(datos)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errores += 1
            abiertas -= 1
            con.cerrar()
            return
        latencias.append((loop.time() - programada) * 1000)
        estados[estado] = estados.get(estado, 0) + 1
        libres.append(con)

    tareas: set[asyncio.Task] = set()
    inicio = loop.time() + 0.05
    i = 0
    while True:
        programada = inicio + i / tasa
        if programada > inicio + segundos:
            break
        espera = programada - loop.time()
        if espera > 0:
            await asyncio.sleep(espera)
        tarea = loop.create_task(uno(programada, pedido()))
        tareas.add(tarea)
        tarea.add_done_callback(tareas.discard)
        i += 1
    if tareas:
        await asyncio.gather(*tareas)
    for con in libres:
        con.cerrar()
    return {
        "ofrecidas": i,
        "tasa_ofrecida": tasa,
        "respondidas": len(latencias),
        "errores": errores,
        "estados": estados,
        "latencias": latencias,
        "conexiones": abiertas,
        "medido_en": time.strftime("%H:%M:%S"),
    }
