"""Noise controls a commander asks for: a minimum stay before an entry counts, a fence that does
not escalate, its own list of commanders to tell, silencing a fence for some minutes (recorded,
told to the others, limited), and the alert list by severity."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.models import Rol
from geocercas.models import Alerta, Geocerca, TipoGeocerca
from geocercas.services import alertas_escalar
from posiciones.services import LecturaNueva, posiciones_registrar
from realtime.models import Evento
from telegram_bot.models import Notificacion
from telegram_bot.services import notificaciones_generar
from tests.factories import CENTRO, AlertaFactory, EfectivoFactory, GeocercaFactory, UsuarioFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(hours=1)


def en(efectivo, este_m: float, t: float):
    lon, lat = desplazar(*CENTRO, este_m=este_m)
    return posiciones_registrar(
        lecturas=[LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, T0 + timedelta(seconds=t), 5.0)]
    )


def test_una_entrada_cuenta_solo_tras_la_permanencia_minima(unidad_a):
    GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=200), entrada_min_s=60)
    de_paso, se_queda = EfectivoFactory.create_batch(2, unidad=unidad_a, ultima_posicion_en=None)
    for t, x in ((0, -300), (10, -50), (30, -20), (45, -250)):  # 35 s inside, then out
        en(de_paso, x, t)
    assert not Alerta.objects.exists()
    for t, x in ((0, -300), (10, -50), (40, -40)):
        en(se_queda, x, t)
    assert not Alerta.objects.exists()
    r = en(se_queda, -30, 75)  # 65 s after the first reading inside
    assert [(a.tipo, a.ultima_en) for a in r.alertas] == [("entrada", T0 + timedelta(seconds=75))]


def _alerta_de(unidad, **cerca) -> Alerta:
    g = GeocercaFactory(**cerca)
    g.unidades.add(unidad)
    return AlertaFactory(efectivo=EfectivoFactory(unidad=unidad), geocerca=g, tipo="entrada", severidad="critica")


def test_una_geocerca_que_no_escala_y_otra_que_avisa_solo_a_los_elegidos(settings, unidad_a, comandante_a):
    settings.ALERTA_ESCALAR_MIN = 5
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    callada = _alerta_de(unidad_a, escalar=False)
    elegido = UsuarioFactory(rol=Rol.COMANDANTE, unidad=unidad_a, telegram_id=111)
    UsuarioFactory(rol=Rol.COMANDANTE, unidad=unidad_a, telegram_id=222)  # linked, not on the list
    con_lista = _alerta_de(unidad_a)
    con_lista.geocerca.notificar_a.set([elegido])
    despues = con_lista.creada_en + timedelta(minutes=6)
    assert alertas_escalar(ahora=despues) == [con_lista.pk]
    assert Evento.objects.get(tipo="alerta.escalada").datos["notificar_a"] == [elegido.pk]
    notificaciones_generar()
    escaladas = Notificacion.objects.filter(evento__tipo="alerta.escalada")
    assert list(escaladas.values_list("usuario_id", flat=True)) == [elegido.pk]
    assert Alerta.objects.get(pk=callada.pk).escalada_en is None


def test_silenciar_registra_sin_avisar_ni_escalar_y_se_levanta(api, comandante_a, unidad_a, settings):
    settings.ALERTA_ESCALAR_MIN = 5
    g = GeocercaFactory(tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=200))
    g.unidades.add(unidad_a)
    cliente = api(comandante_a)
    r = cliente.post(f"/api/v1/geocercas/{g.pk}/silenciar/", {"minutos": 60, "motivo": "Acto oficial"}, format="json")
    assert r.status_code == 200, r.content
    props = r.json()["properties"]
    assert props["silencio_motivo"] == "Acto oficial" and props["silenciada_por"]
    hasta = Geocerca.objects.get(pk=g.pk).silenciada_hasta
    assert timedelta(minutes=59) < hasta - timezone.now() <= timedelta(minutes=60)
    # Audited with the fence: who and why.
    from django.contrib.contenttypes.models import ContentType

    from auditoria.models import Registro

    cambio = Registro.objects.filter(
        content_type=ContentType.objects.get_for_model(Geocerca), object_pk=str(g.pk)
    ).latest("id")
    assert cambio.actor == comandante_a and "silencio_motivo" in cambio.changes

    efectivo = EfectivoFactory(unidad=unidad_a, ultima_posicion_en=None)
    en(efectivo, -300, 0)
    [alerta] = en(efectivo, 0, 30).alertas
    assert alerta.silenciada and Evento.objects.get(tipo="alerta.geocerca").datos["silenciada"] is True
    assert alertas_escalar(ahora=timezone.now() + timedelta(minutes=10)) == []

    r = cliente.post(f"/api/v1/geocercas/{g.pk}/silenciar/", {"minutos": 0}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["silenciada_hasta"] is None
    assert Evento.objects.filter(tipo="geocerca.silenciada").latest("id").datos["hasta"] is None


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({"minutos": 241, "motivo": "x"}, "minutos"),  # beyond GEOCERCA_SILENCIO_MAX_MIN (240)
        ({"minutos": -1, "motivo": "x"}, "minutos"),
        ({"minutos": "60", "motivo": "x"}, "minutos"),
        ({"minutos": 60}, "motivo"),
        ({"minutos": 60, "motivo": "x" * 201}, "motivo"),
    ],
)
def test_silencios_mal_pedidos_son_400(api, comandante_a, unidad_a, cuerpo, campo):
    g = GeocercaFactory()
    g.unidades.add(unidad_a)
    r = api(comandante_a).post(f"/api/v1/geocercas/{g.pk}/silenciar/", cuerpo, format="json")
    assert r.status_code == 400, r.content
    assert campo in r.json()["error"]["detalle"]
    assert Geocerca.objects.get(pk=g.pk).silenciada_hasta is None


def test_otra_unidad_no_silencia_ni_nombra_comandantes_ajenos(api, comandante_a, comandante_b, unidad_a, unidad_b):
    g = GeocercaFactory()
    g.unidades.add(unidad_b)
    r = api(comandante_a).post(f"/api/v1/geocercas/{g.pk}/silenciar/", {"minutos": 5, "motivo": "x"}, format="json")
    assert r.status_code in (403, 404)
    propia = GeocercaFactory(nombre="Propia")
    propia.unidades.add(unidad_a)
    r = api(comandante_a).patch(
        f"/api/v1/geocercas/{propia.pk}/", {"properties": {"notificar_a": [comandante_b.pk]}}, format="json"
    )
    assert r.status_code == 403 and r.json()["error"]["detalle"] == {"notificar_a": [comandante_b.pk]}
    un_efectivo = EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol=Rol.EFECTIVO)).usuario
    r = api(comandante_a).patch(
        f"/api/v1/geocercas/{propia.pk}/", {"properties": {"notificar_a": [un_efectivo.pk]}}, format="json"
    )
    assert r.status_code == 400 and r.json()["error"]["detalle"] == {"notificar_a": [un_efectivo.pk]}
    assert not Geocerca.objects.get(pk=propia.pk).notificar_a.exists()


def test_la_lista_de_alertas_se_ordena_por_severidad(api, admin, unidad_a):
    e = EfectivoFactory(unidad=unidad_a)
    info = AlertaFactory(efectivo=e, severidad="info")
    critica = AlertaFactory(efectivo=e, severidad="critica")
    advertencia = AlertaFactory(efectivo=e, severidad="advertencia")
    otra_critica = AlertaFactory(efectivo=e, severidad="critica")
    ids = [a["id"] for a in api(admin).get("/api/v1/alertas/?orden=severidad").json()["results"]]
    assert ids == [otra_critica.pk, critica.pk, advertencia.pk, info.pk]
    ids = [a["id"] for a in api(admin).get("/api/v1/alertas/").json()["results"]]
    assert ids == [otra_critica.pk, advertencia.pk, critica.pk, info.pk]
    assert api(admin).get("/api/v1/alertas/?orden=gravedad").status_code == 400
