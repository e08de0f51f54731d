"""Messages from command: who receives them (resolved at sending time, within scope), each
recipient's receipts, replies, the bot's delivery and urgent re-sends, and every bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from auditoria.models import Registro
from efectivos.models import Rol
from mensajes.models import Entrega, Mensaje
from realtime.models import Evento
from telegram_bot.models import Notificacion
from telegram_bot.services import mensajes_urgentes_reenviar, notificaciones_generar
from tests.factories import CENTRO, EfectivoFactory, UsuarioFactory, desplazar

pytestmark = pytest.mark.django_db


def _con_cuenta(unidad, **kw):
    return EfectivoFactory(usuario=UsuarioFactory(rol=Rol.EFECTIVO), unidad=unidad, **kw)


def test_a_un_efectivo_con_recibo_lectura_y_respuesta_visibles_al_mando(api, comandante_a, efectivo):
    r = api(comandante_a).post(
        "/api/v1/mensajes/", {"texto": "Repliéguense a la base", "efectivos": [efectivo.pk]}, format="json"
    )
    assert r.status_code == 201, r.json()
    m = r.json()
    assert (m["texto"], m["destino"], m["urgente"]) == ("Repliéguense a la base", "efectivos", False)
    assert [(e["efectivo"], e["entregado_en"], e["leido_en"]) for e in m["entregas"]] == [(efectivo.pk, None, None)]
    nuevo = Evento.objects.get(tipo="mensaje.nuevo")
    assert nuevo.audiencia == [f"efectivo.{efectivo.pk}"]  # nobody else's sockets
    assert nuevo.datos["texto"] == "Repliéguense a la base" and nuevo.datos["mensaje_id"] == m["id"]

    oficial = api(efectivo.usuario)
    bandeja = oficial.get("/api/v1/mis-mensajes/").json()
    assert [(b["mensaje"], b["texto"], b["entregado_en"]) for b in bandeja] == [
        (m["id"], "Repliéguense a la base", None)
    ]
    assert oficial.post(f"/api/v1/mis-mensajes/{m['id']}/recibido/").status_code == 200
    leido = oficial.post(f"/api/v1/mis-mensajes/{m['id']}/leido/").json()
    assert leido["entregado_en"] and leido["leido_en"]
    again = oficial.post(f"/api/v1/mis-mensajes/{m['id']}/leido/").json()
    assert again["leido_en"] == leido["leido_en"]  # the first time is kept
    r = oficial.post(f"/api/v1/mis-mensajes/{m['id']}/responder/", {"texto": "En camino"}, format="json")
    assert r.status_code == 201

    visto = api(comandante_a).get(f"/api/v1/mensajes/{m['id']}/").json()
    entrega = visto["entregas"][0]
    assert entrega["entregado_en"] and entrega["leido_en"] and entrega["entregado_por"] == "campo"
    assert [x["texto"] for x in visto["respuestas"]] == ["En camino"]
    receipts = Evento.objects.filter(tipo="mensaje.entrega").order_by("id")
    assert [
        (e.datos["entregado_en"] is not None, e.datos["leido_en"] is not None, e.datos["respuesta"]) for e in receipts
    ] == [
        (True, False, None),
        (True, True, None),
        (True, True, "En camino"),
    ]
    assert set(receipts[0].audiencia) == {"rol.administrador", f"unidad.{efectivo.unidad_id}"}
    # In the audit trail: the message, its delivery, the reply.
    modelos = set(Registro.objects.values_list("content_type__model", flat=True))
    assert {"mensaje", "entrega", "respuesta"} <= modelos


def test_a_una_unidad_y_a_un_area_y_un_radio_segun_la_ultima_posicion(api, comandante_a, admin, unidad_a, unidad_b):
    cerca = _con_cuenta(unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=100), srid=4326))
    lejos = _con_cuenta(unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=3000), srid=4326))
    otro = _con_cuenta(unidad_b, ultima_posicion=Point(*desplazar(*CENTRO, este_m=50), srid=4326))
    EfectivoFactory(unidad=unidad_a)  # no account: nobody to deliver to

    r = api(comandante_a).post("/api/v1/mensajes/", {"texto": "A la unidad", "unidad": unidad_a.pk}, format="json")
    assert {e["efectivo"] for e in r.json()["entregas"]} == {cerca.pk, lejos.pk}

    radio = {"texto": "Radio", "lat": CENTRO[1], "lon": CENTRO[0], "radio_m": 500}
    r = api(comandante_a).post("/api/v1/mensajes/", radio, format="json")
    assert {e["efectivo"] for e in r.json()["entregas"]} == {cerca.pk}  # not another unidad's, even inside
    r = api(admin).post("/api/v1/mensajes/", radio, format="json")
    assert {e["efectivo"] for e in r.json()["entregas"]} == {cerca.pk, otro.pk}
    assert Mensaje.objects.get(pk=r.json()["id"]).area.contains(cerca.ultima_posicion)

    lon, lat = desplazar(*CENTRO, este_m=3000)
    area = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - 0.005, lat - 0.005],
                [lon + 0.005, lat - 0.005],
                [lon + 0.005, lat + 0.005],
                [lon - 0.005, lat + 0.005],
                [lon - 0.005, lat - 0.005],
            ]
        ],
    }
    r = api(comandante_a).post("/api/v1/mensajes/", {"texto": "Área", "area": area}, format="json")
    assert r.status_code == 201, r.json()
    assert {e["efectivo"] for e in r.json()["entregas"]} == {lejos.pk}
    # A commander sees only their unidad's recipients of the admin's message.
    visto = api(comandante_a).get("/api/v1/mensajes/").json()["results"]
    del_admin = next(
        m for m in visto if m["texto"] == "Radio" and m["autor"] == (admin.get_full_name() or admin.username)
    )
    assert {e["efectivo"] for e in del_admin["entregas"]} == {cerca.pk}


@pytest.mark.parametrize(
    "cuerpo, estado, codigo",
    [
        ({"texto": "", "todos": True}, 400, "entrada_invalida"),
        ({"texto": "   ", "todos": True}, 400, "entrada_invalida"),
        ({"texto": "x" * 2001, "todos": True}, 400, "entrada_invalida"),
        ({"texto": "Hola"}, 400, "entrada_invalida"),
        ({"texto": "Hola", "todos": True, "unidad": 1}, 400, "entrada_invalida"),
        ({"texto": "Hola", "lat": -34.6, "lon": -58.4}, 400, "entrada_invalida"),
        ({"texto": "Hola", "lat": -34.6, "lon": -58.4, "radio_m": 0}, 400, "entrada_invalida"),
        ({"texto": "Hola", "area": {"type": "Point", "coordinates": [0, 0]}}, 400, "entrada_invalida"),
        ({"texto": "Hola", "area": "no"}, 400, "entrada_invalida"),
        ({"texto": 5, "todos": True}, 400, "entrada_invalida"),
        ({"texto": "Hola", "lat": 10, "lon": 10, "radio_m": 100}, 400, "sin_destinatarios"),
    ],
)
def test_mensajes_invalidos_4xx(api, comandante_a, efectivo, cuerpo, estado, codigo):
    r = api(comandante_a).post("/api/v1/mensajes/", cuerpo, format="json")
    assert r.status_code == estado, r.json()
    assert r.json()["error"]["codigo"] == codigo
    assert Mensaje.objects.count() == 0


def test_un_comandante_no_escribe_a_otra_unidad_y_un_efectivo_no_escribe(api, comandante_a, efectivo, unidad_b):
    ajeno = _con_cuenta(unidad_b)
    r = api(comandante_a).post("/api/v1/mensajes/", {"texto": "Hola", "efectivos": [ajeno.pk]}, format="json")
    assert r.status_code == 403 and r.json()["error"]["detalle"] == {"efectivos": [ajeno.pk]}
    r = api(comandante_a).post("/api/v1/mensajes/", {"texto": "Hola", "unidad": unidad_b.pk}, format="json")
    assert r.status_code == 403
    r = api(efectivo.usuario).post("/api/v1/mensajes/", {"texto": "Hola", "todos": True}, format="json")
    assert r.status_code == 403
    assert (
        api(comandante_a).post("/api/v1/mensajes/", {"texto": "x", "efectivos": [999999]}, format="json").status_code
        == 404
    )
    assert Mensaje.objects.count() == 0
    # Someone else's message cannot be marked or answered.
    m = (
        api(comandante_a)
        .post("/api/v1/mensajes/", {"texto": "Solo a uno", "efectivos": [efectivo.pk]}, format="json")
        .json()
    )
    otro = _con_cuenta(efectivo.unidad)
    assert api(otro.usuario).post(f"/api/v1/mis-mensajes/{m['id']}/leido/").status_code == 404
    r = api(efectivo.usuario).post(f"/api/v1/mis-mensajes/{m['id']}/responder/", {"texto": ""}, format="json")
    assert r.status_code == 400


def test_el_html_de_un_mensaje_se_guarda_tal_cual_y_el_bot_lo_manda_como_texto(api, comandante_a, efectivo):
    efectivo.usuario.telegram_id = 555
    efectivo.usuario.save()
    texto = '<script>alert("x")</script><b>hola</b>'
    api(comandante_a).post("/api/v1/mensajes/", {"texto": texto, "efectivos": [efectivo.pk]}, format="json")
    notificaciones_generar()
    n = Notificacion.objects.get(usuario=efectivo.usuario)
    assert texto in n.texto  # plain text in Telegram (no parse mode): shown as typed, never rendered
    assert n.entrega.efectivo_id == efectivo.pk


def test_urgente_se_reenvia_por_el_bot_hasta_que_se_confirma(api, comandante_a, efectivo, settings):
    settings.MENSAJE_URGENTE_REENVIO_MIN = 1
    efectivo.usuario.telegram_id = 777
    efectivo.usuario.save()
    m = (
        api(comandante_a)
        .post("/api/v1/mensajes/", {"texto": "Evacúen", "urgente": True, "efectivos": [efectivo.pk]}, format="json")
        .json()
    )
    notificaciones_generar()
    primera = Notificacion.objects.get(usuario=efectivo.usuario)
    assert primera.botones == [[{"texto": "✅ Recibido", "datos": f"m:{m['id']}"}]]
    ahora = timezone.now()
    assert mensajes_urgentes_reenviar(ahora=ahora) == 0  # not yet: a minute has not passed
    assert mensajes_urgentes_reenviar(ahora=ahora + timedelta(minutes=1, seconds=5)) == 1
    assert mensajes_urgentes_reenviar(ahora=ahora + timedelta(minutes=1, seconds=10)) == 0  # just re-sent
    assert mensajes_urgentes_reenviar(ahora=ahora + timedelta(minutes=2, seconds=10)) == 1
    assert Entrega.objects.get().reenvios == 2
    assert "reenvío 2" in Notificacion.objects.order_by("-id").first().texto
    api(efectivo.usuario).post(f"/api/v1/mis-mensajes/{m['id']}/confirmado/")
    assert mensajes_urgentes_reenviar(ahora=ahora + timedelta(minutes=5)) == 0
    # Nor after the re-send window, unacknowledged.
    m2 = (
        api(comandante_a)
        .post("/api/v1/mensajes/", {"texto": "Otro", "urgente": True, "efectivos": [efectivo.pk]}, format="json")
        .json()
    )
    assert m2["id"]
    assert mensajes_urgentes_reenviar(ahora=ahora + timedelta(minutes=31)) == 0


def test_el_envio_por_el_bot_cuenta_como_entrega(api, comandante_a, efectivo, settings):
    from telegram_bot.services import notificacion_enviar

    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    efectivo.usuario.telegram_id = 888
    efectivo.usuario.save()
    m = api(comandante_a).post("/api/v1/mensajes/", {"texto": "Hola", "efectivos": [efectivo.pk]}, format="json").json()
    notificaciones_generar()
    n = Notificacion.objects.get(usuario=efectivo.usuario)
    enviados = []
    assert notificacion_enviar(notificacion_id=n.pk, enviar=lambda *a: enviados.append(a)) == "enviada"
    assert enviados[0][0] == 888 and "Hola" in enviados[0][1]
    entrega = Entrega.objects.get(mensaje_id=m["id"])
    assert entrega.entregado_en is not None and entrega.entregado_por == "telegram"
