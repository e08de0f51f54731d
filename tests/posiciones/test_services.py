from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from efectivos.models import Efectivo
from gad_project.exceptions import EntradaInvalida
from posiciones.services import LecturaNueva, posiciones_registrar
from tests.factories import CENTRO, EfectivoFactory, desplazar


def _lectura(efectivo_id: int, segundos: int, este_m: float) -> LecturaNueva:
    lon, lat = desplazar(*CENTRO, este_m=este_m)
    return LecturaNueva(
        id_cliente=uuid.uuid4(),
        efectivo_id=efectivo_id,
        lat=lat,
        lon=lon,
        registrada_en=timezone.now() - timedelta(hours=1) + timedelta(seconds=segundos),
    )


@pytest.mark.django_db
def test_efectivo_inexistente_no_guarda_nada():
    with pytest.raises(EntradaInvalida):
        posiciones_registrar(lecturas=[_lectura(987654, 0, 0)])


@pytest.mark.django_db(transaction=True)
def test_lotes_concurrentes_del_mismo_efectivo_dejan_la_ultima_posicion_coherente():
    """Two batches race for the same efectivo; the last position must be the newest reading of
    both, whatever the interleaving."""
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    lotes = [
        [_lectura(efectivo.pk, s, s) for s in range(0, 200, 2)],  # even seconds, ends at 198
        [_lectura(efectivo.pk, s, s) for s in range(1, 200, 2)],  # odd seconds, ends at 199
    ]
    barrera = threading.Barrier(2)
    errores = []

    def enviar(lote):
        try:
            barrera.wait()
            posiciones_registrar(lecturas=lote)
        except Exception as exc:  # noqa: BLE001 - collected and asserted empty below
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=enviar, args=(lote,)) for lote in lotes]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert errores == []
    efectivo = Efectivo.objects.get(pk=efectivo.pk)
    assert efectivo.posiciones.count() == 200
    newest = max(lotes[1], key=lambda lec: lec.registrada_en)
    assert efectivo.ultima_posicion_en == newest.registrada_en
    assert efectivo.ultima_posicion.x == pytest.approx(newest.lon)
