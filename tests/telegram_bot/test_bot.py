"""The bot end to end: `manage.py run_telegram_bot` as a real process, python-telegram-bot talking
HTTP to a local fake Telegram server, on the test database."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo, FuentePosicion, Posicion
from geocercas.models import Alerta
from tareas import services as tareas_services
from tareas.models import EstadoTarea, Tarea, TipoTarea
from telegram_bot import mensajes, services
from telegram_bot.models import ActualizacionProcesada, CodigoVinculacion, EmergenciaPendiente
from tests.conftest import cliente_jwt
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, TareaFactory, cuadrado, desplazar
from tests.telegram_falso import TOKEN, TelegramFalso, bot_en_marcha
from tests.vivo import esperar_puerto, puerto_libre

TG = 777001  # the efectivo's Telegram id
OTRO_TG = 777002


@pytest.fixture
def falso():
    with TelegramFalso() as f:
        yield f


@pytest.fixture
def bot(transactional_db, falso):
    with bot_en_marcha(falso) as proc:
        yield proc


@pytest.fixture
def vinculado(efectivo):
    efectivo.usuario.telegram_id = TG
    efectivo.usuario.save(update_fields=["telegram_id"])
    return efectivo


def textos(falso: TelegramFalso, chat_id: int) -> list[str]:
    return [p["text"] for p in falso.llamadas_a("sendMessage", chat_id=chat_id)]


def test_vincular_con_codigo_valido_vencido_usado_y_ajeno(bot, falso, efectivo, comandante_a):
    nuevo = services.codigo_generar(efectivo_id=efectivo.pk, creado_por=comandante_a)
    assert CodigoVinculacion.objects.get().codigo != nuevo.codigo  # only its hash is stored

    falso.mensaje(OTRO_TG, "/start inventado-123")
    assert "inválido" in falso.esperar("sendMessage", chat_id=OTRO_TG)[-1]["text"]

    falso.mensaje(TG, f"/start {nuevo.codigo}")
    assert "quedó vinculada" in falso.esperar("sendMessage", chat_id=TG)[-1]["text"]
    efectivo.usuario.refresh_from_db()
    assert efectivo.usuario.telegram_id == TG

    falso.mensaje(OTRO_TG, f"/start {nuevo.codigo}")  # someone else replaying the same code
    assert "ya fue usado" in falso.esperar("sendMessage", 2, chat_id=OTRO_TG)[-1]["text"]

    otro = EfectivoFactory(
        unidad=efectivo.unidad, usuario=type(efectivo.usuario).objects.create_user("otro_ef", rol="efectivo")
    )
    vencido = services.codigo_generar(efectivo_id=otro.pk, creado_por=comandante_a)
    CodigoVinculacion.objects.filter(usuario=otro.usuario).update(vence_en=timezone.now() - timedelta(seconds=1))
    falso.mensaje(OTRO_TG, f"/start {vencido.codigo}")
    assert "venció" in falso.esperar("sendMessage", 3, chat_id=OTRO_TG)[-1]["text"]

    # An account already linked cannot take over a second efectivo with that one's code.
    fresco = services.codigo_generar(efectivo_id=otro.pk, creado_por=comandante_a)
    falso.mensaje(TG, f"/start {fresco.codigo}")
    assert "ya está vinculada a otro efectivo" in falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"]
    otro.usuario.refresh_from_db()
    assert otro.usuario.telegram_id is None


def test_un_usuario_sin_vincular_no_puede_hacer_nada(bot, falso, efectivo):
    tarea = TareaFactory(unidad=efectivo.unidad)
    antes = efectivo.estado
    falso.mensaje(OTRO_TG, "/tareas")
    falso.mensaje(OTRO_TG, "/estado")
    falso.mensaje(OTRO_TG, "/emergencia hay un incendio")
    falso.ubicacion(OTRO_TG, *reversed(CENTRO))
    falso.mensaje(OTRO_TG, "hola")
    falso.esperar("sendMessage", 5, chat_id=OTRO_TG)
    falso.boton(
        OTRO_TG, f"t:cancelar:{tarea.pk}", {"message_id": 1, "date": 0, "chat": {"id": OTRO_TG, "type": "private"}}
    )
    falso.boton(OTRO_TG, "e:fuera_servicio", {"message_id": 2, "date": 0, "chat": {"id": OTRO_TG, "type": "private"}})
    respuestas = falso.esperar("answerCallbackQuery", 2)
    assert all(r["text"] == "Cuenta no vinculada." for r in respuestas)
    assert all(t == mensajes.SIN_VINCULAR for t in textos(falso, OTRO_TG))
    assert not Posicion.objects.exists()
    assert not Tarea.objects.filter(tipo=TipoTarea.EMERGENCIA).exists()
    tarea.refresh_from_db()
    efectivo.refresh_from_db()
    assert tarea.estado == EstadoTarea.PROGRAMADA and efectivo.estado == antes


def test_desvincular_corta_el_acceso_de_inmediato(bot, falso, vinculado):
    falso.mensaje(TG, "/ayuda")
    assert falso.esperar("sendMessage", chat_id=TG)[-1]["text"] == mensajes.AYUDA
    services.cuenta_desvincular(usuario=vinculado.usuario)
    falso.mensaje(TG, "/ayuda")
    assert falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"] == mensajes.SIN_VINCULAR


def test_ubicacion_en_vivo_registra_lecturas_y_dispara_la_geocerca(bot, falso, vinculado):
    GeocercaFactory(nombre="Zona restringida", tipo="restringida", geom=cuadrado(lado_m=200))
    fuera = desplazar(*CENTRO, este_m=400)
    inicial = falso.ubicacion(TG, fuera[1], fuera[0], en_vivo=True)
    assert "tiempo real" in falso.esperar("sendMessage", chat_id=TG)[-1]["text"]
    mensaje = inicial["message"]
    for este in (250, 120, 0):  # the live location moving in, as edits of the same message
        p = desplazar(*CENTRO, este_m=este)
        ultima = falso.ubicacion(TG, p[1], p[0], en_vivo=True, editar=mensaje)
    falso.repetir(ultima)  # the same update delivered twice: processed once
    falso.mensaje(TG, "/ayuda")  # a marker: everything before it was handled
    falso.esperar("sendMessage", 2, chat_id=TG)

    lecturas = Posicion.objects.filter(efectivo=vinculado).order_by("registrada_en")
    assert lecturas.count() == 4
    assert {p.fuente for p in lecturas} == {FuentePosicion.TELEGRAM}
    assert lecturas.last().punto.x == pytest.approx(CENTRO[0], abs=1e-6)
    [alerta] = Alerta.objects.filter(efectivo=vinculado)
    assert alerta.tipo == "entrada" and alerta.geocerca.nombre == "Zona restringida"
    vinculado.refresh_from_db()
    assert vinculado.ultima_posicion.x == pytest.approx(CENTRO[0], abs=1e-6)
    assert ActualizacionProcesada.objects.filter(update_id=ultima["update_id"]).count() == 1
    assert len(textos(falso, TG)) == 2  # one reply to the live location, none to its edits


def test_aceptar_iniciar_y_finalizar_una_tarea_con_botones(bot, falso, vinculado, comandante_a):
    tarea = TareaFactory(unidad=vinculado.unidad, titulo="Control de tránsito")
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[vinculado.pk])
    falso.mensaje(TG, "/tareas")
    [enviado] = falso.esperar("sendMessage", chat_id=TG)
    assert "Control de tránsito" in enviado["text"]
    botones = [b["callback_data"] for fila in enviado["reply_markup"]["inline_keyboard"] for b in fila]
    assert botones == [f"t:aceptar:{tarea.pk}", f"t:rechazar:{tarea.pk}"]
    mensaje = {"message_id": 50, "date": 0, "chat": {"id": TG, "type": "private"}, "text": enviado["text"]}

    # The task's place comes with the list, as a pin.
    [pin] = falso.esperar("sendLocation", chat_id=TG)
    assert (float(pin["latitude"]), float(pin["longitude"])) == pytest.approx((tarea.ubicacion.y, tarea.ubicacion.x))

    falso.boton(TG, f"t:aceptar:{tarea.pk}", mensaje)
    [editado] = falso.esperar("editMessageText", 1)
    assert [b["callback_data"] for b in editado["reply_markup"]["inline_keyboard"][0]] == [
        f"t:llegue:{tarea.pk}",
        f"t:iniciar:{tarea.pk}",
    ]
    falso.boton(TG, f"t:aceptar:{tarea.pk}", mensaje)  # the same button pressed again
    assert falso.esperar("answerCallbackQuery", 2)[-1]["text"] != "Tarea aceptada."
    falso.boton(TG, f"t:iniciar:{tarea.pk}", mensaje)
    falso.esperar("editMessageText", 3)
    tarea.refresh_from_db()
    assert tarea.estado == EstadoTarea.EN_CURSO
    falso.boton(TG, f"t:finalizar:{tarea.pk}", mensaje)
    assert falso.esperar("answerCallbackQuery", 4)[-1]["text"] == "Tarea finalizada."
    tarea.refresh_from_db()
    vinculado.refresh_from_db()
    assert tarea.estado == EstadoTarea.FINALIZADA
    assert vinculado.estado == EstadoEfectivo.DISPONIBLE
    assert list(tarea.eventos.values_list("estado_nuevo", flat=True)) == [
        "asignada",
        "asignada",
        "en_curso",
        "finalizada",
    ]  # assigned, accepted, ...


def test_un_boton_de_tarea_ajena_no_hace_nada(bot, falso, vinculado, unidad_b):
    ajena = TareaFactory(unidad=unidad_b)
    falso.boton(TG, f"t:cancelar:{ajena.pk}", {"message_id": 9, "date": 0, "chat": {"id": TG, "type": "private"}})
    assert "fuera de su alcance" in falso.esperar("answerCallbackQuery")[0]["text"]
    ajena.refresh_from_db()
    assert ajena.estado == EstadoTarea.PROGRAMADA


def test_estado_y_emergencia_desde_el_bot(bot, falso, vinculado):
    cercano = EfectivoFactory(
        unidad=vinculado.unidad, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=80), srid=4326)
    )
    falso.mensaje(TG, "/estado")
    [menu] = falso.esperar("sendMessage", chat_id=TG)
    mensaje = {"message_id": 60, "date": 0, "chat": {"id": TG, "type": "private"}, "text": menu["text"]}
    falso.boton(TG, "e:no_disponible", mensaje)
    falso.esperar("editMessageText")
    vinculado.refresh_from_db()
    assert vinculado.estado == EstadoEfectivo.NO_DISPONIBLE

    falso.mensaje(TG, "/emergencia Choque con heridos")
    assert "ubicación" in falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"]
    falso.ubicacion(TG, CENTRO[1], CENTRO[0])
    respuesta = falso.esperar("sendMessage", 3, chat_id=TG)[-1]["text"]
    tarea = Tarea.objects.get(tipo=TipoTarea.EMERGENCIA)
    assert tarea.codigo in respuesta and cercano.apellido in respuesta
    assert tarea.unidad_id == vinculado.unidad_id and tarea.creada_por == vinculado.usuario
    assert list(tarea.asignaciones.values_list("efectivo_id", flat=True)) == [cercano.pk]


def test_accesos_dice_quien_consulto_sus_datos_y_por_que(bot, falso, vinculado, comandante_a):
    falso.mensaje(TG, "/accesos")
    assert falso.esperar("sendMessage", chat_id=TG)[-1]["text"] == "Nadie consultó sus datos."
    r = cliente_jwt(comandante_a).get(
        f"/api/v1/efectivos/{vinculado.pk}/recorrido/?horas=2&motivo=otro&motivo_detalle=Reclamo%20del%20vecino"
    )
    assert r.status_code == 200, r.content
    falso.mensaje(TG, "/accesos")
    texto = falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"]
    assert "Consultas a sus datos: 1" in texto
    assert comandante_a.get_username() in texto or comandante_a.get_full_name() in texto
    assert "recorrido. Motivo: Otro (explicar) — Reclamo del vecino" in texto, texto


def test_inicio_y_fin_de_servicio_desde_el_bot(bot, falso, vinculado):
    from efectivos.models import Turno

    falso.mensaje(TG, "/inicio_servicio")
    assert "Servicio iniciado" in falso.esperar("sendMessage", chat_id=TG)[-1]["text"]
    assert Turno.objects.get(efectivo=vinculado).inicio_real is not None
    falso.mensaje(TG, "/fin_servicio")
    assert "Servicio terminado" in falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"]
    vinculado.refresh_from_db()
    assert vinculado.estado == EstadoEfectivo.FUERA_SERVICIO
    falso.mensaje(TG, "/fin_servicio")
    assert falso.esperar("sendMessage", 3, chat_id=TG)[-1]["text"] == "No está en servicio."
    # Off duty, a shared location is not stored, and the officer is told so (Telegram dates a
    # message to the second: one taken in the second of the sign-off would still be on duty).
    time.sleep(1.1)
    antes = Posicion.objects.filter(efectivo=vinculado).count()
    falso.ubicacion(TG, CENTRO[1], CENTRO[0])
    assert falso.esperar("sendMessage", 4, chat_id=TG)[-1]["text"] == mensajes.FUERA_DE_SERVICIO
    assert Posicion.objects.filter(efectivo=vinculado).count() == antes


def test_modo_webhook_exige_el_token_secreto(transactional_db, falso, vinculado):
    puerto = puerto_libre()
    url = f"http://127.0.0.1:{puerto}/telegram"
    with bot_en_marcha(falso, "--webhook", url, "--puerto", str(puerto), TELEGRAM_WEBHOOK_SECRET="s3creto"):
        falso.esperar("setWebhook", timeout=30)
        esperar_puerto(puerto)  # PTB registers the webhook before its server is listening
        assert falso.llamadas_a("setWebhook")[0]["secret_token"] == "s3creto"
        update = {
            "update_id": 5,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": TG, "type": "private"},
                "from": falso.usuario(TG),
                "text": "/ayuda",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }

        def enviar(secreto: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if secreto:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secreto
            req = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
            try:
                return urllib.request.urlopen(req, timeout=10).status
            except urllib.error.HTTPError as e:
                return e.code

        assert enviar(None) == 403
        assert enviar("otro") == 403
        assert enviar("s3creto") == 200
        assert falso.esperar("sendMessage", chat_id=TG)[0]["text"] == mensajes.AYUDA
    assert Efectivo.objects.filter(pk=vinculado.pk).exists()


def test_el_bot_espera_a_telegram_si_no_responde_al_arrancar(transactional_db, vinculado):
    puerto = puerto_libre()
    with bot_en_marcha(None, url=f"http://127.0.0.1:{puerto}/bot") as proc:  # nothing there yet
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=4)  # still alive, retrying
        with TelegramFalso(puerto) as falso:
            falso.esperar("getUpdates", timeout=90)
            falso.mensaje(TG, "/ayuda")
            assert falso.esperar("sendMessage", chat_id=TG)[0]["text"] == mensajes.AYUDA


def test_el_boton_sos_avisa_pide_la_ubicacion_y_despacha_al_recibirla(bot, falso, vinculado):
    """One tap, no typing: with no recent fix the SOS is raised at once (the commanders know) and
    the location is asked for; when it arrives, the nearest backup is sent. All in the database."""
    from realtime.models import Evento
    from seguridad.models import Sos

    vinculado.ultima_posicion = None
    vinculado.ultima_posicion_en = None
    vinculado.save()
    refuerzo = EfectivoFactory(
        unidad=vinculado.unidad, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=150), srid=4326)
    )
    falso.mensaje(TG, "/ayuda")
    [ayuda] = falso.esperar("sendMessage", chat_id=TG)
    assert mensajes.BOTON_SOS in str(ayuda["reply_markup"])  # the persistent SOS button

    falso.mensaje(TG, mensajes.BOTON_SOS)
    pedido = falso.esperar("sendMessage", 2, chat_id=TG)[-1]
    assert "Comparta su ubicación" in pedido["text"] and "request_location" in str(pedido["reply_markup"])
    sos = Sos.objects.get()
    assert (sos.estado, sos.punto, sos.fuente) == ("activo", None, "telegram")
    assert Evento.objects.filter(tipo="sos.activado").count() == 1

    falso.ubicacion(TG, CENTRO[1], CENTRO[0])
    respuesta = falso.esperar("sendMessage", 3, chat_id=TG)[-1]["text"]
    assert "Refuerzo en camino: 1" in respuesta
    sos.refresh_from_db()
    assert sos.punto is not None and sos.tarea is not None
    assert list(sos.tarea.asignaciones.values_list("efectivo_id", flat=True)) == [refuerzo.pk]

    falso.mensaje(TG, "/sos")
    assert "sigue activo" in falso.esperar("sendMessage", 4, chat_id=TG)[-1]["text"]
    assert Sos.objects.count() == 1


def test_una_emergencia_a_medias_sobrevive_un_reinicio_del_bot(transactional_db, falso, vinculado):
    """The description waits in PostgreSQL, not in the bot's memory: a restart between the two
    messages still dispatches it when the location arrives."""
    with bot_en_marcha(falso):
        falso.mensaje(TG, "/emergencia Persona armada en la plaza")
        assert "ubicación" in falso.esperar("sendMessage", chat_id=TG)[-1]["text"]
    with bot_en_marcha(falso):  # a new process
        falso.ubicacion(TG, CENTRO[1], CENTRO[0])
        respuesta = falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"]
    tarea = Tarea.objects.get(tipo=TipoTarea.EMERGENCIA)
    assert tarea.descripcion == "Persona armada en la plaza"
    assert tarea.codigo in respuesta
    # Taken once: the next location is only a location.
    assert not EmergenciaPendiente.objects.exists()


def test_una_alerta_escalada_se_reconoce_desde_telegram(bot, falso, settings, efectivo, comandante_a, comandante_b):
    from datetime import timedelta

    from django.utils import timezone

    from geocercas.models import Alerta
    from geocercas.services import alertas_escalar
    from tests.factories import AlertaFactory

    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL = TOKEN, falso.url
    comandante_a.telegram_id, comandante_b.telegram_id = OTRO_TG, OTRO_TG + 1
    comandante_a.save(update_fields=["telegram_id"])
    comandante_b.save(update_fields=["telegram_id"])
    alerta = AlertaFactory(efectivo=efectivo)
    alertas_escalar(ahora=timezone.now() + timedelta(minutes=30))
    services.notificaciones_generar()
    assert services.notificaciones_pendientes_enviar() == {"enviada": 1}  # only their unidad's commander
    [aviso] = falso.llamadas_a("sendMessage", chat_id=OTRO_TG)
    assert "sin reconocer" in aviso["text"]
    [[reconocer]] = aviso["reply_markup"]["inline_keyboard"]
    assert reconocer["callback_data"] == f"a:r:{alerta.pk}"

    mensaje = {"message_id": 70, "date": 0, "chat": {"id": OTRO_TG, "type": "private"}, "text": aviso["text"]}
    falso.boton(OTRO_TG, reconocer["callback_data"], mensaje)
    assert "Reconocida por" in falso.esperar("editMessageText")[-1]["text"]
    alerta.refresh_from_db()
    assert (alerta.estado, alerta.reconocida_por) == ("reconocida", comandante_a)
    # Again (another commander got there first, or a double tap): said plainly, nothing changes.
    falso.boton(OTRO_TG, reconocer["callback_data"], mensaje)
    assert "ya fue reconocida" in falso.esperar("answerCallbackQuery", 2)[-1]["text"]
    assert Alerta.objects.get(pk=alerta.pk).reconocida_por == comandante_a


def test_rechazar_pide_un_motivo_que_queda_en_la_tarea(bot, falso, vinculado, comandante_a):
    tarea = TareaFactory(unidad=vinculado.unidad, titulo="Corte de calle")
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[vinculado.pk])
    mensaje = {"message_id": 70, "date": 0, "chat": {"id": TG, "type": "private"}, "text": "Corte de calle"}
    falso.boton(TG, f"t:rechazar:{tarea.pk}", mensaje)
    [pregunta] = falso.esperar("editMessageText", 1)
    assert "¿Por qué la rechaza?" in pregunta["text"]
    opciones = [b["callback_data"] for fila in pregunta["reply_markup"]["inline_keyboard"] for b in fila]
    assert opciones == [f"r:{tarea.pk}:{i}" for i in range(len(mensajes.MOTIVOS_RECHAZO))] + [
        f"r:{tarea.pk}:-",
        f"r:{tarea.pk}:x",
    ]
    assert tarea.asignaciones.get().estado == "pendiente"  # asking is not rejecting

    falso.boton(TG, f"r:{tarea.pk}:x", mensaje)  # back: the task's buttons again, nothing changed
    volver = falso.esperar("editMessageText", 2)[-1]
    assert [b["callback_data"] for b in volver["reply_markup"]["inline_keyboard"][0]] == [
        f"t:aceptar:{tarea.pk}",
        f"t:rechazar:{tarea.pk}",
    ]
    falso.boton(TG, f"r:{tarea.pk}:1", mensaje)
    assert falso.esperar("answerCallbackQuery", 3)[-1]["text"] == "Tarea rechazada (Estoy lejos)."
    assert tarea.asignaciones.get().estado == "rechazada"
    assert any(e.motivo.endswith(": Estoy lejos") for e in tarea.eventos.all())


def test_llegue_queda_registrado_con_la_distancia_al_lugar(bot, falso, vinculado, comandante_a):
    tarea = TareaFactory(unidad=vinculado.unidad, ubicacion=Point(*desplazar(*CENTRO, este_m=40), srid=4326))
    Efectivo.objects.filter(pk=vinculado.pk).update(ultima_posicion=Point(*CENTRO, srid=4326))
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[vinculado.pk])
    tareas_services.asignacion_responder(tarea_id=tarea.pk, usuario=vinculado.usuario, acepta=True)
    mensaje = {"message_id": 80, "date": 0, "chat": {"id": TG, "type": "private"}, "text": "t"}
    falso.boton(TG, f"t:llegue:{tarea.pk}", mensaje)
    assert falso.esperar("answerCallbackQuery")[-1]["text"] == "Llegada registrada: el mando ya lo ve."
    editado = falso.esperar("editMessageText")[-1]
    assert [b["callback_data"] for b in editado["reply_markup"]["inline_keyboard"][0]] == [f"t:iniciar:{tarea.pk}"]
    a = tarea.asignaciones.get()
    assert a.llegada_en is not None and a.llegada_distancia_m == pytest.approx(40, abs=1)
    assert any("(a 40 m del lugar)" in e.motivo for e in tarea.eventos.all())


def test_el_menu_y_los_botones_fijos_llevan_a_tareas_y_estado(bot, falso, vinculado):
    [comandos] = falso.esperar("setMyCommands")  # installed when the bot starts
    lista = comandos["commands"] if isinstance(comandos["commands"], list) else json.loads(comandos["commands"])
    assert [c["command"] for c in lista] == [c for c, _ in mensajes.COMANDOS]
    falso.mensaje(TG, "/start")
    [hola] = falso.esperar("sendMessage", chat_id=TG)
    teclado = [b["text"] for fila in hola["reply_markup"]["keyboard"] for b in fila]
    assert teclado == [mensajes.BOTON_TAREAS, mensajes.BOTON_ESTADO, mensajes.BOTON_SOS]
    falso.mensaje(TG, mensajes.BOTON_TAREAS)
    assert falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"] == "No tiene tareas abiertas."
    falso.mensaje(TG, mensajes.BOTON_ESTADO)
    assert falso.esperar("sendMessage", 3, chat_id=TG)[-1]["text"].startswith("Su estado: Disponible")


def test_en_un_grupo_el_bot_no_muestra_nada(bot, falso, vinculado, comandante_a):
    tarea = TareaFactory(unidad=vinculado.unidad, titulo="Reservada")
    tareas_services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[vinculado.pk])
    falso.mensaje(TG, "/tareas", grupo=-100200)
    [respuesta] = falso.esperar("sendMessage", chat_id=-100200)
    assert respuesta["text"] == mensajes.SOLO_PRIVADO
    falso.mensaje(TG, "/sos", grupo=-100200)
    falso.esperar("sendMessage", 2, chat_id=-100200)
    assert all("Reservada" not in p.get("text", "") for p in falso.llamadas_a("sendMessage"))
    assert not vinculado.sos.exists()  # an SOS typed in a group raises nothing


def test_una_ubicacion_reenviada_no_se_registra_como_la_del_efectivo(bot, falso, vinculado):
    falso.ubicacion(TG, -34.61, -58.41, reenviada_de=OTRO_TG)
    assert "reenviadas" in falso.esperar("sendMessage", chat_id=TG)[-1]["text"]
    assert not Posicion.objects.filter(efectivo=vinculado).exists()
    falso.ubicacion(TG, -34.61, -58.41)  # the officer's own, sent from the chat: stored
    assert "registrada" in falso.esperar("sendMessage", 2, chat_id=TG)[-1]["text"]
    assert Posicion.objects.filter(efectivo=vinculado, fuente=FuentePosicion.TELEGRAM).count() == 1


def test_ninguna_linea_del_registro_del_bot_contiene_su_token(transactional_db, falso, vinculado):
    """httpx logs each request's URL at INFO and python-telegram-bot its API URL at DEBUG, and the
    Bot API's URLs carry the token. At DEBUG, the most a deployer can turn on."""
    from tests.telegram_falso import TOKEN
    from tests.vivo import RAIZ, proceso

    nombre = f"bot-token-{puerto_libre()}"
    entorno = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": falso.url, "TELEGRAM_POLL_TIMEOUT_S": "1"}
    with proceso(
        nombre, [str(RAIZ / ".venv/bin/python"), "manage.py", "run_telegram_bot"], LOG_LEVEL="DEBUG", **entorno
    ):
        falso.esperar("getUpdates", timeout=30)
        falso.mensaje(TG, "/estado")
        falso.esperar("sendMessage", chat_id=TG)
    registro = (RAIZ / ".run" / "logs" / f"test-{nombre}.log").read_text()
    assert "Set Bot API URL" in registro  # the line that carried it
    assert TOKEN not in registro
    assert TOKEN.split(":")[1] not in registro


def test_un_mensaje_urgente_y_un_control_de_bienestar_se_responden_desde_telegram(
    bot, falso, settings, vinculado, comandante_a
):
    from mensajes.models import Entrega
    from mensajes.services import Destinatarios, mensaje_enviar
    from seguridad.models import ControlBienestar
    from seguridad.services import bienestar_iniciar, bienestar_revisar

    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL = TOKEN, falso.url
    settings.BIENESTAR_FACTOR_NOCHE_SOLO = 1
    m = mensaje_enviar(
        usuario=comandante_a,
        texto="Corten <b>el tránsito</b>",
        urgente=True,
        para=Destinatarios(efectivos=[vinculado.pk]),
    )
    services.notificaciones_generar()
    assert services.notificaciones_pendientes_enviar() == {"enviada": 1}
    [aviso] = falso.llamadas_a("sendMessage", chat_id=TG)
    assert "Corten <b>el tránsito</b>" in aviso["text"] and "parse_mode" not in aviso  # shown as typed
    assert Entrega.objects.get().entregado_por == "telegram"
    [[recibido]] = aviso["reply_markup"]["inline_keyboard"]
    mensaje = {"message_id": 71, "date": 0, "chat": {"id": TG, "type": "private"}, "text": aviso["text"]}
    falso.boton(TG, recibido["callback_data"], mensaje)
    assert "Recepción confirmada" in falso.esperar("editMessageText")[-1]["text"]
    assert Entrega.objects.get(mensaje=m).confirmado_en is not None

    bienestar_iniciar(usuario=comandante_a, intervalo_min=20, efectivo_id=vinculado.pk)
    assert bienestar_revisar(ahora=timezone.now() + timedelta(minutes=21))["pedidos"] == 1
    services.notificaciones_generar()
    services.notificaciones_pendientes_enviar()
    pedido = falso.llamadas_a("sendMessage", chat_id=TG)[-1]
    assert "Control de bienestar" in pedido["text"]
    [[bien]] = pedido["reply_markup"]["inline_keyboard"]
    falso.boton(TG, bien["callback_data"], {**mensaje, "message_id": 72, "text": pedido["text"]})
    assert "el mando sabe que está bien" in falso.esperar("editMessageText", 2)[-1]["text"]
    control = ControlBienestar.objects.get()
    assert (control.respuestas, control.ultima_via, control.estado) == (1, "telegram", "al_dia")
