"""An alert's lifecycle through the API: pendiente → reconocida → en atención → resuelta, with
who, when and a note at each step; one open alert per (efectivo, geocerca, tipo); escalation
reaching the commanders by the bot; and every wrong request a 4xx in the project's shape."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from geocercas import services
from geocercas.models import Alerta, AlertaNota, TipoGeocerca
from posiciones.services import LecturaNueva, posiciones_registrar
from telegram_bot import services as telegram_services
from telegram_bot.models import Notificacion
from tests.factories import CENTRO, AlertaFactory, GeocercaFactory, UsuarioFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db


def _quien(usuario) -> str:
    return str(usuario)


def test_del_alta_a_la_resolucion_queda_quien_cuando_y_la_nota(api, comandante_a, efectivo):
    alerta = AlertaFactory(efectivo=efectivo)
    cliente = api(comandante_a)
    r = cliente.post(f"/api/v1/alertas/{alerta.pk}/reconocer/", {"nota": "  Visto  "}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["estado"] == "reconocida"
    r = cliente.post(f"/api/v1/alertas/{alerta.pk}/atender/", {"nota": "Móvil 12 en camino"}, format="json")
    assert r.json()["estado"] == "en_atencion"
    assert r.json()["atendida_por"] == _quien(comandante_a)
    r = cliente.post(f"/api/v1/alertas/{alerta.pk}/resolver/", {"nota": "Salió de la zona"}, format="json")
    cuerpo = r.json()
    assert r.status_code == 200
    assert cuerpo["estado"] == "resuelta"
    assert cuerpo["resuelta_por"] == _quien(comandante_a)
    nombre = comandante_a.get_full_name()
    assert [(h["estado"], h["nota"], h["usuario"]) for h in cuerpo["historial"]] == [
        ("reconocida", "Visto", nombre),
        ("en_atencion", "Móvil 12 en camino", nombre),
        ("resuelta", "Salió de la zona", nombre),
    ]
    alerta.refresh_from_db()
    assert alerta.reconocida_en <= alerta.atendida_en <= alerta.resuelta_en
    # Listed by state; closed ones are not open.
    assert cliente.get("/api/v1/alertas/", {"abiertas": "true"}).json()["count"] == 0
    assert [a["id"] for a in cliente.get("/api/v1/alertas/", {"estado": "resuelta"}).json()["results"]] == [alerta.pk]


def test_resolver_una_pendiente_la_reconoce_tambien_y_baja_el_contador(api, comandante_a, efectivo):
    alerta, otra = AlertaFactory.create_batch(2, efectivo=efectivo)
    cliente = api(comandante_a)
    assert cliente.get("/api/v1/alertas/", {"pendientes": "true"}).json()["count"] == 2
    cliente.post(f"/api/v1/alertas/{alerta.pk}/resolver/")
    alerta.refresh_from_db()
    assert (alerta.estado, alerta.reconocida_por, alerta.resuelta_por) == ("resuelta", comandante_a, comandante_a)
    assert [a["id"] for a in cliente.get("/api/v1/alertas/", {"pendientes": "true"}).json()["results"]] == [otra.pk]


@pytest.mark.parametrize(
    ("previas", "accion", "estado"),
    [
        (["reconocer"], "reconocer", "reconocida"),
        (["atender"], "atender", "en_atencion"),
        (["resolver"], "atender", "resuelta"),
        (["resolver"], "resolver", "resuelta"),
    ],
)
def test_una_transicion_imposible_es_409_y_no_cambia_nada(api, comandante_a, efectivo, previas, accion, estado):
    alerta = AlertaFactory(efectivo=efectivo)
    cliente = api(comandante_a)
    for previa in previas:
        assert cliente.post(f"/api/v1/alertas/{alerta.pk}/{previa}/").status_code == 200
    notas = AlertaNota.objects.count()
    r = cliente.post(f"/api/v1/alertas/{alerta.pk}/{accion}/", {"nota": "otra vez"}, format="json")
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["codigo"] == ("alerta_ya_reconocida" if accion == "reconocer" else "transicion_invalida")
    assert error["detalle"]["estado"] == estado
    assert AlertaNota.objects.count() == notas
    alerta.refresh_from_db()
    assert alerta.estado == estado


def test_entradas_malas_y_fuera_de_alcance(api, comandante_b, efectivo):
    alerta = AlertaFactory(efectivo=efectivo)
    otro_cliente = api(comandante_b)
    r = otro_cliente.post(f"/api/v1/alertas/{alerta.pk}/atender/")
    assert r.status_code == 404 and r.json()["error"]["codigo"] == "no_encontrado"
    assert api(efectivo.usuario).post(f"/api/v1/alertas/{alerta.pk}/resolver/").status_code == 403
    mando = api(UsuarioFactory(rol="comandante", unidad=efectivo.unidad))
    for cuerpo in ({"nota": "x" * 2001}, {"nota": ["lista"]}, {"nota": {"a": 1}}):
        r = mando.post(f"/api/v1/alertas/{alerta.pk}/resolver/", cuerpo, format="json")
        assert r.status_code == 400, cuerpo
        assert list(r.json()["error"]["detalle"]) == ["nota"]
    r = mando.post("/api/v1/alertas/abc/resolver/")
    assert r.status_code == 400 and list(r.json()["error"]["detalle"]) == ["id"], r.json()
    for malo in ({"estado": "cerrada"}, {"abiertas": "tal vez"}):
        r = mando.get("/api/v1/alertas/", malo)
        assert r.status_code == 400 and r.json()["error"]["codigo"] == "parametro_invalido"
    alerta.refresh_from_db()
    assert alerta.estado == "pendiente"


def _lectura(efectivo, este_m: float, t: timedelta) -> LecturaNueva:
    lon, lat = desplazar(*CENTRO, este_m=este_m)
    return LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, timezone.now() - timedelta(minutes=10) + t, 5.0)


def test_una_alerta_abierta_cuenta_repeticiones_y_una_resuelta_deja_nacer_otra(comandante_a, efectivo):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=200))
    efectivo.ultima_posicion_en = None
    efectivo.save(update_fields=["ultima_posicion_en"])
    vueltas = [_lectura(efectivo, x, timedelta(seconds=i * 10)) for i, x in enumerate([500, 0, 500, 0, 500, 0])]
    posiciones_registrar(lecturas=vueltas[:2])
    posiciones_registrar(lecturas=vueltas[2:])  # two more entries: one in its own batch, one later
    [alerta] = Alerta.objects.all()
    assert (alerta.repeticiones, alerta.ultima_en) == (3, vueltas[5].registrada_en)
    services.alerta_cambiar_estado(alerta_id=alerta.pk, usuario=comandante_a, accion="atender")
    posiciones_registrar(lecturas=[_lectura(efectivo, 500, timedelta(seconds=60))])
    posiciones_registrar(lecturas=[_lectura(efectivo, 0, timedelta(seconds=70))])
    alerta.refresh_from_db()
    assert (Alerta.objects.count(), alerta.repeticiones, alerta.estado) == (1, 4, "en_atencion")
    services.alerta_cambiar_estado(alerta_id=alerta.pk, usuario=comandante_a, accion="resolver")
    posiciones_registrar(lecturas=[_lectura(efectivo, 500, timedelta(seconds=80))])
    resultado = posiciones_registrar(lecturas=[_lectura(efectivo, 0, timedelta(seconds=90))])
    nueva = Alerta.objects.exclude(pk=alerta.pk).get()
    assert (nueva.estado, nueva.repeticiones) == ("pendiente", 1)
    assert [(a.id, a.nueva) for a in resultado.alertas] == [(nueva.pk, True)]


def test_la_escalada_llega_por_el_bot_a_los_comandantes_de_la_unidad_y_a_los_admins(
    settings, efectivo, comandante_a, comandante_b, admin
):
    settings.ALERTA_ESCALAR_MIN = 5
    for i, usuario in enumerate([comandante_a, comandante_b, admin]):
        usuario.telegram_id = 770001 + i
        usuario.save(update_fields=["telegram_id"])
    alerta = AlertaFactory(efectivo=efectivo, tipo="entrada")
    alerta.repeticiones = 3
    alerta.save(update_fields=["repeticiones"])
    reconocida = AlertaFactory(efectivo=efectivo, tipo="salida")
    services.alerta_reconocer(alerta_id=reconocida.pk, usuario=comandante_a)
    assert services.alertas_escalar(ahora=timezone.now() + timedelta(minutes=6)) == [alerta.pk]
    telegram_services.notificaciones_generar()
    notificaciones = Notificacion.objects.filter(evento__tipo="alerta.escalada")
    assert sorted(n.usuario_id for n in notificaciones) == sorted([comandante_a.pk, admin.pk])
    texto = notificaciones.first().texto
    assert "sin reconocer hace 6 min" in texto
    assert f"«{alerta.geocerca.nombre}» (3 veces)" in texto
    assert f"{efectivo.apellido}, {efectivo.nombre}" in texto


def test_un_comandante_vincula_su_propia_cuenta_de_telegram(api, comandante_a):
    r = api(comandante_a).post("/api/v1/telegram/codigos/", {}, format="json")
    assert r.status_code == 201, r.json()
    usuario = telegram_services.cuenta_vincular(codigo=r.json()["codigo"], telegram_id=990099)
    assert usuario == comandante_a
