"""Notifications from events to efectivos' Telegram, delivered through the real
python-telegram-bot client to the local fake server: retries, backoff, 429 and outages."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.models import FuentePosicion
from posiciones import services as posiciones_services
from tareas import services as tareas_services
from telegram_bot import services
from telegram_bot.models import EstadoNotificacion, Notificacion
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, TareaFactory, UsuarioFactory, cuadrado, desplazar
from tests.telegram_falso import TOKEN, TelegramFalso

pytestmark = pytest.mark.django_db
TG = 880001


@pytest.fixture
def falso(settings):
    with TelegramFalso() as f:
        settings.TELEGRAM_BOT_TOKEN = TOKEN
        settings.TELEGRAM_API_URL = f.url
        yield f


@pytest.fixture
def vinculado(efectivo):
    efectivo.usuario.telegram_id = TG
    efectivo.usuario.save(update_fields=["telegram_id"])
    return efectivo


def asignar(efectivo, comandante, titulo="Custodia"):
    tarea = TareaFactory(unidad=efectivo.unidad, titulo=titulo)
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante, efectivos=[efectivo.pk])
    return tarea


def pasa_el_tiempo() -> None:
    """The retry time of every pending notification arrives (instead of sleeping)."""
    Notificacion.objects.filter(estado=EstadoNotificacion.PENDIENTE).update(
        proximo_intento_en=timezone.now() - timedelta(seconds=1)
    )


def test_una_asignacion_llega_una_vez_con_sus_botones(falso, vinculado, comandante_a):
    tarea = asignar(vinculado, comandante_a)
    services.notificaciones_generar()
    services.notificaciones_generar()  # reading the log twice creates nothing twice
    [n] = Notificacion.objects.all()
    assert n.usuario == vinculado.usuario and n.estado == EstadoNotificacion.PENDIENTE
    assert services.notificaciones_pendientes_enviar() == {"enviada": 1}
    [enviado] = falso.llamadas_a("sendMessage", chat_id=TG)
    assert "Nueva tarea asignada" in enviado["text"] and tarea.codigo in enviado["text"]
    botones = [b["callback_data"] for b in enviado["reply_markup"]["inline_keyboard"][0]]
    assert botones == [f"t:aceptar:{tarea.pk}", f"t:rechazar:{tarea.pk}"]
    # ...and where to go: a venue the phone opens in its maps app.
    [lugar] = falso.llamadas_a("sendVenue", chat_id=TG)
    assert (float(lugar["latitude"]), float(lugar["longitude"])) == pytest.approx(
        (tarea.ubicacion.y, tarea.ubicacion.x)
    )
    assert lugar["title"] == f"{tarea.codigo} · {tarea.titulo}"
    n.refresh_from_db()
    assert (n.estado, n.intentos, n.ultimo_error) == (EstadoNotificacion.ENVIADA, 1, "")
    assert services.notificaciones_pendientes_enviar() == {}


def test_una_caida_y_un_429_no_pierden_ni_duplican_notificaciones(falso, vinculado, comandante_a):
    for titulo in ("Uno", "Dos", "Tres"):
        asignar(vinculado, comandante_a, titulo)
        tarea = vinculado.asignaciones.latest("id").tarea
        vinculado.refresh_from_db()
        tareas_services.tarea_transicionar(tarea_id=tarea.pk, accion="cancelar", usuario=comandante_a)
    services.notificaciones_generar()
    total = Notificacion.objects.count()
    assert total == 6  # each task: assigned, then its state change (cancelled)

    falso.fallos = [("caido", 0), ("caido", 0)]
    assert services.notificaciones_pendientes_enviar() == {"reintento": 1}  # stops at the first failure
    primera = Notificacion.objects.order_by("creada_en", "id").first()
    assert primera.intentos == 1
    assert "Bad Gateway" in primera.ultimo_error
    assert primera.proximo_intento_en > timezone.now()
    assert services.notificaciones_pendientes_enviar() == {}  # not yet its time: backoff respected

    pasa_el_tiempo()
    assert services.notificaciones_pendientes_enviar() == {"reintento": 1}
    falso.fallos = [("429", 7)]
    pasa_el_tiempo()
    antes = timezone.now()
    assert services.notificaciones_pendientes_enviar() == {"reintento": 1}
    primera.refresh_from_db()
    assert "429" in primera.ultimo_error
    assert timedelta(seconds=6) < primera.proximo_intento_en - antes < timedelta(seconds=8)  # retry_after honoured

    pasa_el_tiempo()
    assert services.notificaciones_pendientes_enviar() == {"enviada": total}
    recibidos = [p["text"] for p in falso.llamadas_a("sendMessage", chat_id=TG)]
    assert len(recibidos) == total == len(set(recibidos))  # every one delivered, exactly once
    assert [n.estado for n in Notificacion.objects.all()] == [EstadoNotificacion.ENVIADA] * total
    primera.refresh_from_db()
    assert primera.intentos == 4 and primera.ultimo_error == ""


def test_si_el_efectivo_bloqueo_el_bot_la_notificacion_queda_fallida(falso, vinculado, comandante_a):
    asignar(vinculado, comandante_a)
    services.notificaciones_generar()
    falso.fallos = [("403", 0)]
    assert services.notificaciones_pendientes_enviar() == {"fallida": 1}
    n = Notificacion.objects.get()
    assert n.estado == EstadoNotificacion.FALLIDA and "blocked" in n.ultimo_error


def test_una_alerta_critica_llega_solo_al_efectivo_que_la_provoco(falso, vinculado, unidad_a):
    otro = EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol="efectivo", telegram_id=880002))
    GeocercaFactory(nombre="Casa de Gobierno", tipo="restringida", severidad="critica", geom=cuadrado(lado_m=200))
    GeocercaFactory(nombre="Plaza", tipo="control", severidad="advertencia", geom=cuadrado(lado_m=300))
    fuera = desplazar(*CENTRO, este_m=500)
    ahora = timezone.now()
    lecturas = [
        posiciones_services.LecturaNueva(
            id_cliente=uuid.uuid4(),
            efectivo_id=vinculado.pk,
            lat=lat,
            lon=lon,
            registrada_en=ahora + timedelta(seconds=i),
            precision_m=5,
            velocidad_kmh=None,
            rumbo=None,
        )
        for i, (lon, lat) in enumerate([fuera, CENTRO])
    ]
    posiciones_services.posiciones_registrar(lecturas=lecturas, fuente=FuentePosicion.API)
    services.notificaciones_generar()
    services.notificaciones_pendientes_enviar()
    [enviado] = falso.llamadas_a("sendMessage")
    assert enviado["chat_id"] == TG
    assert enviado["text"] == "⚠️ Entró en la geocerca «Casa de Gobierno». Salga de la zona y avise al mando."
    # The warning-level alert of the same reading is the commanders' business: not pushed.
    assert not falso.llamadas_a("sendMessage", chat_id=otro.usuario.telegram_id)


def test_sin_cuenta_vinculada_no_hay_notificaciones(falso, efectivo, comandante_a):
    asignar(efectivo, comandante_a)
    services.notificaciones_generar()
    assert not Notificacion.objects.exists()


def test_metrics_muestra_las_notificaciones_por_estado(client, falso, vinculado, comandante_a):
    asignar(vinculado, comandante_a)
    services.notificaciones_generar()
    texto = client.get("/metrics").content.decode()
    assert 'gad_bot_notificaciones_estado{estado="pendiente"} 1.0' in texto
    services.notificaciones_pendientes_enviar()
    texto = client.get("/metrics").content.decode()
    assert 'gad_bot_notificaciones_estado{estado="enviada"} 1.0' in texto
    assert 'gad_bot_notificaciones_estado{estado="pendiente"} 0.0' in texto
    assert 'gad_bot_notificaciones_total{resultado="enviada"}' in texto
