"""/metrics adds up every process's metrics (prometheus_client multiprocess mode) and is only for
Prometheus (a token or an allowed network)."""

from __future__ import annotations

import re
import urllib.request

import pytest
from django.test import Client

from efectivos.models import Posicion
from tests.vivo import RAIZ, daphne, proceso

pytestmark = pytest.mark.django_db


def _valor(texto: str, serie: str) -> float:
    m = re.search(rf"^{re.escape(serie)} (\S+)$", texto, flags=re.M)
    return float(m.group(1)) if m else 0.0


def test_el_registro_esta_en_modo_multiproceso():
    from prometheus_client import values

    assert values.ValueClass is not values.MutexValue


def test_una_lectura_del_simulador_se_ve_en_metrics_de_un_servidor(transactional_db):
    """The simulator is its own process; a server process's /metrics shows what it stored (and only
    this xdist worker's processes: the other worker's demo load once counted here too)."""
    from django.core.management import call_command

    call_command("cargar_demo", verbosity=0)
    serie = 'gad_posiciones_ingestadas_total{fuente="simulador"}'
    en_bd = Posicion.objects.filter(fuente="simulador").count()  # the demo's first positions
    with daphne() as url:
        previo = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
        antes = _valor(previo, serie)
        traccar = 'gad_posiciones_ingestadas_total{fuente="traccar"}'
        antes_traccar = _valor(previo, traccar)
        comando = [
            *(str(RAIZ / ".venv/bin/python"), "manage.py", "simular_patrullas", "--iteraciones", "3", "--rapido"),
            *("--url", url),  # the demo phones report over HTTP, as Traccar Client and OwnTracks
        ]
        with proceso("simulador-metricas", comando) as p:
            assert p.wait(timeout=120) == 0
        texto = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    guardadas = Posicion.objects.filter(fuente="simulador").count() - en_bd
    assert guardadas > 0
    assert _valor(texto, serie) - antes == guardadas
    # The database's own figures, read at scrape time.
    assert _valor(texto, 'gad_dependencia_ok{dependencia="postgresql"}') == 1
    assert _valor(texto, 'gad_dependencia_ok{dependencia="redis"}') == 1
    assert _valor(texto, 'gad_efectivos{estado="disponible"}') > 0
    # The demo's phones spoke their own protocols to the server: stored, and their devices in contact.
    from efectivos.models import Dispositivo

    assert Posicion.objects.filter(fuente="traccar").exists() and Posicion.objects.filter(fuente="owntracks").exists()
    telefonos = Dispositivo.objects.filter(ultimo_contacto_en__isnull=False)
    con_posicion = set(
        Posicion.objects.filter(fuente__in=["traccar", "owntracks"]).values_list("efectivo_id", flat=True)
    )
    assert Dispositivo.objects.count() == 5
    assert {d.efectivo_id for d in telefonos} == con_posicion and len(con_posicion) >= 3
    assert all(d.bateria_pct is not None for d in telefonos)
    assert _valor(texto, traccar) - antes_traccar == Posicion.objects.filter(fuente="traccar").count()


def test_metrics_solo_con_token_o_desde_una_red_permitida(settings):
    settings.METRICS_REDES = ["10.1.0.0/16"]
    settings.METRICS_TOKEN = "secreto-de-prometheus"
    c = Client()
    r = c.get("/metrics")  # from 127.0.0.1: not in the networks now
    assert r.status_code == 403 and r.json()["error"]["codigo"] == "prohibido"
    assert c.get("/metrics", HTTP_AUTHORIZATION="Bearer otro").status_code == 403
    r = c.get("/metrics", HTTP_AUTHORIZATION="Bearer secreto-de-prometheus")
    assert r.status_code == 200 and "gad_posiciones_ingestadas_total" in r.content.decode()
    assert c.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    settings.METRICS_TOKEN = ""
    assert c.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403  # an empty token is no token


def test_las_tareas_de_celery_se_cuentan_con_su_duracion():
    from mapa.tasks import densidad_refrescar

    c = Client()
    serie = 'gad_celery_tareas_total{estado="success",tarea="mapa.tasks.densidad_refrescar"}'
    antes = _valor(c.get("/metrics").content.decode(), serie)
    densidad_refrescar.apply()
    texto = c.get("/metrics").content.decode()
    assert _valor(texto, serie) == antes + 1
    assert _valor(texto, 'gad_celery_tarea_seconds_count{tarea="mapa.tasks.densidad_refrescar"}') >= 1


def test_cada_app_registra_sus_colectores_y_metrics_los_lee_de_la_base(settings):
    """Efectivos by state, the event log and the bot's deliveries are each their app's collector
    (registered in its AppConfig.ready); /metrics reads them from PostgreSQL at scrape time."""
    from efectivos.models import EstadoEfectivo
    from realtime.models import Evento
    from telegram_bot.models import EstadoNotificacion, Notificacion
    from tests.factories import EfectivoFactory

    settings.METRICS_TOKEN = "t"
    EfectivoFactory.create_batch(3, estado=EstadoEfectivo.NO_DISPONIBLE)
    EfectivoFactory(estado=EstadoEfectivo.DISPONIBLE)
    texto = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert _valor(texto, 'gad_efectivos{estado="no_disponible"}') == 3
    assert _valor(texto, 'gad_efectivos{estado="disponible"}') == 1
    assert _valor(texto, 'gad_efectivos{estado="en_tarea"}') == 0 and 'gad_efectivos{estado="en_tarea"}' in texto
    assert _valor(texto, "gad_eventos_filas") == Evento.objects.count()
    assert _valor(texto, "gad_eventos_ultimo_id") == (
        Evento.objects.order_by("-id").values_list("id", flat=True).first() or 0
    )
    pendientes = Notificacion.objects.filter(estado=EstadoNotificacion.PENDIENTE).count()
    assert _valor(texto, f'gad_bot_notificaciones_estado{{estado="{EstadoNotificacion.PENDIENTE}"}}') == pendientes
    assert f'gad_bot_notificaciones_estado{{estado="{EstadoNotificacion.PENDIENTE}"}}' in texto
