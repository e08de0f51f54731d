from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from efectivos.models import Efectivo, Posicion
from geocercas.models import Alerta
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar

pytestmark = pytest.mark.django_db

URL = "/api/v1/posiciones/"


def lectura(**cambios) -> dict:
    base = {
        "id_cliente": str(uuid.uuid4()),
        "lat": CENTRO[1],
        "lon": CENTRO[0],
        "registrada_en": (timezone.now() - timedelta(seconds=5)).isoformat(),
        "precision_m": 6.5,
    }
    base.update(cambios)
    return {k: v for k, v in base.items() if v is not ...}


def test_un_efectivo_envia_su_propia_lectura(api, efectivo):
    respuesta = api(efectivo.usuario).post(URL, lectura(velocidad_kmh=4.2, rumbo=90), format="json")
    assert respuesta.status_code == 201, respuesta.json()
    assert respuesta.json() == {
        "aceptadas": 1,
        "duplicadas": 0,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }
    posicion = Posicion.objects.get(efectivo=efectivo)
    assert (posicion.velocidad_kmh, posicion.rumbo, posicion.fuente) == (4.2, 90, "api")
    assert posicion.punto.coords == pytest.approx(CENTRO)


def test_un_lote_se_guarda_y_reintentarlo_cuenta_duplicadas(api, efectivo):
    lote = [lectura() for _ in range(5)]
    client = api(efectivo.usuario)
    assert client.post(URL, lote, format="json").json() == {
        "aceptadas": 5,
        "duplicadas": 0,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }
    assert client.post(URL, lote, format="json").json() == {
        "aceptadas": 0,
        "duplicadas": 5,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }
    assert Posicion.objects.filter(efectivo=efectivo).count() == 5


def test_la_ultima_posicion_solo_avanza_en_hora_del_equipo(api, efectivo):
    ahora = timezone.now()
    efectivo.ultima_posicion_en = ahora - timedelta(minutes=5)
    efectivo.save()
    client = api(efectivo.usuario)
    client.post(URL, lectura(lat=-34.60, registrada_en=(ahora - timedelta(seconds=10)).isoformat()), format="json")
    client.post(URL, lectura(lat=-34.70, registrada_en=(ahora - timedelta(seconds=60)).isoformat()), format="json")
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion.y == pytest.approx(-34.60)


@pytest.mark.parametrize(
    ("cambios", "campo"),
    [
        ({"lat": 91}, "lat"),
        ({"lon": -180.5}, "lon"),
        ({"lat": "-34.6"}, "lat"),
        ({"lat": True}, "lat"),
        ({"lon": None}, "lon"),
        ({"lat": ...}, "lat"),
        ({"id_cliente": "no-es-uuid"}, "id_cliente"),
        ({"id_cliente": 12345}, "id_cliente"),
        ({"registrada_en": "ayer"}, "registrada_en"),
        ({"registrada_en": "2026-11-22T10:00:00"}, "registrada_en"),
        ({"registrada_en": (timezone.now() + timedelta(days=2)).isoformat()}, "registrada_en"),
        ({"registrada_en": "2019-01-01T00:00:00Z"}, "registrada_en"),
        ({"precision_m": -3}, "precision_m"),
        ({"velocidad_kmh": "rapido"}, "velocidad_kmh"),
        ({"rumbo": 400}, "rumbo"),
        ({"efectivo": "uno"}, "efectivo"),
        ({"altura": 12}, "altura"),
    ],
)
def test_cada_dato_invalido_es_un_400_que_nombra_el_campo(api, efectivo, cambios, campo):
    respuesta = api(efectivo.usuario).post(URL, lectura(**cambios), format="json")
    assert respuesta.status_code == 400
    error = respuesta.json()["error"]
    assert error["codigo"] == "lecturas_invalidas"
    (rechazada,) = error["detalle"]["rechazadas"]
    assert rechazada["indice"] == 0
    assert campo in rechazada["errores"]
    assert not Posicion.objects.exists()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 400])
def test_un_numero_no_finito_rechaza_solo_su_lectura_y_guarda_las_buenas(api, efectivo, literal):
    buenas = [lectura(), lectura()]
    mala = f'{{"id_cliente": "{uuid.uuid4()}", "lat": {literal}, "lon": -58.4, "registrada_en": "{timezone.now().isoformat()}"}}'
    cuerpo = f"[{json.dumps(buenas[0])}, {mala}, {json.dumps(buenas[1])}]"
    respuesta = api(efectivo.usuario).post(URL, cuerpo, content_type="application/json")
    assert respuesta.status_code == 400
    detalle = respuesta.json()["error"]["detalle"]
    assert (detalle["aceptadas"], detalle["duplicadas"]) == (2, 0)
    (rechazada,) = detalle["rechazadas"]
    assert rechazada["indice"] == 1
    assert rechazada["errores"] == {"lat": "Debe ser un número finito."}
    assert {str(u) for u in Posicion.objects.values_list("id_cliente", flat=True)} == {b["id_cliente"] for b in buenas}


def test_un_id_de_efectivo_fuera_de_rango_es_400_y_no_un_error_de_la_base(api, admin):
    respuesta = api(admin).post(URL, lectura(efectivo=2**70), format="json")
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["detalle"]["rechazadas"][0]["errores"] == {
        "efectivo": "Debe ser el id numérico de un efectivo."
    }


def test_un_id_cliente_reusado_con_otra_hora_es_otra_lectura_y_se_evalua(api, efectivo):
    """A retry (the same reading) is stored once; an id_cliente reused with another device time is
    another reading (the history's unique key is (id_cliente, registrada_en)) — stored and
    evaluated, never moving the efectivo unseen (the old defect)."""
    GeocercaFactory(tipo="restringida", geom=cuadrado(desplazar(*CENTRO, este_m=2000), lado_m=200))
    dentro = desplazar(*CENTRO, este_m=2000)
    Efectivo.objects.filter(pk=efectivo.pk).update(ultima_posicion=None, ultima_posicion_en=None)
    u = str(uuid.uuid4())
    t0 = timezone.now() - timedelta(seconds=30)
    client = api(efectivo.usuario)
    primera = lectura(id_cliente=u, registrada_en=t0.isoformat())
    assert client.post(URL, primera, format="json").status_code == 201
    assert client.post(URL, primera, format="json").json() == {
        "aceptadas": 0,
        "duplicadas": 1,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }
    otra = lectura(id_cliente=u, lon=dentro[0], lat=dentro[1], registrada_en=(t0 + timedelta(seconds=100)).isoformat())
    assert client.post(URL, otra, format="json").json() == {
        "aceptadas": 1,
        "duplicadas": 0,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion.coords == pytest.approx(dentro)
    assert Alerta.objects.filter(efectivo=efectivo, tipo="entrada").count() == 1  # evaluated


def test_un_id_cliente_repetido_en_el_mismo_lote_cuenta_la_primera_lectura(api, efectivo):
    Efectivo.objects.filter(pk=efectivo.pk).update(ultima_posicion=None, ultima_posicion_en=None)
    u = str(uuid.uuid4())
    t0 = timezone.now() - timedelta(seconds=30)
    lejos = desplazar(*CENTRO, este_m=5000)
    lote = [
        lectura(id_cliente=u, registrada_en=t0.isoformat()),
        lectura(id_cliente=u, lon=lejos[0], lat=lejos[1], registrada_en=(t0 + timedelta(seconds=1)).isoformat()),
    ]
    assert api(efectivo.usuario).post(URL, lote, format="json").json() == {
        "aceptadas": 1,
        "duplicadas": 1,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }
    efectivo.refresh_from_db()
    assert efectivo.ultima_posicion.coords == pytest.approx(CENTRO)
    assert Posicion.objects.get().punto.coords == pytest.approx(CENTRO)


def test_los_campos_desconocidos_se_nombran_acotados(api, efectivo):
    basura = {f"{i:02d}{'x' * 1000}": i for i in range(50)}
    respuesta = api(efectivo.usuario).post(URL, lectura(**basura), format="json")
    (rechazada,) = respuesta.json()["error"]["detalle"]["rechazadas"]
    assert len(rechazada["errores"]) == 10
    assert all(len(campo) <= 64 for campo in rechazada["errores"])


def test_un_id_cliente_invalido_no_se_devuelve_entero(api, efectivo):
    respuesta = api(efectivo.usuario).post(URL, lectura(id_cliente="z" * 100_000), format="json")
    (rechazada,) = respuesta.json()["error"]["detalle"]["rechazadas"]
    assert rechazada["id_cliente"] == "z" * 64
    assert len(respuesta.content) < 2000


@pytest.mark.parametrize("cuerpo", ['{"lat": ', "[1, 2", "", "null", "42", '"texto"'])
def test_json_malformado_o_de_otro_tipo_es_400(api, efectivo, cuerpo):
    respuesta = api(efectivo.usuario).post(URL, cuerpo, content_type="application/json")
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["codigo"] in {"json_invalido", "lecturas_invalidas"}


def test_en_un_lote_con_lecturas_malas_las_buenas_se_guardan(api, efectivo):
    buenas = [lectura(), lectura()]
    lote = [buenas[0], lectura(lat=200), "basura", buenas[1]]
    respuesta = api(efectivo.usuario).post(URL, lote, format="json")
    assert respuesta.status_code == 400
    detalle = respuesta.json()["error"]["detalle"]
    assert (detalle["aceptadas"], detalle["duplicadas"]) == (2, 0)
    assert [r["indice"] for r in detalle["rechazadas"]] == [1, 2]
    assert detalle["rechazadas"][0]["id_cliente"] == lote[1]["id_cliente"]
    guardadas = set(Posicion.objects.values_list("id_cliente", flat=True))
    assert {str(u) for u in guardadas} == {b["id_cliente"] for b in buenas}


def test_un_lote_que_supera_el_maximo_se_rechaza_entero(api, efectivo, settings):
    settings.POSICIONES_LOTE_MAX = 10
    respuesta = api(efectivo.usuario).post(URL, [lectura() for _ in range(11)], format="json")
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["codigo"] == "lote_demasiado_grande"
    assert respuesta.json()["error"]["detalle"] == {"maximo": 10, "recibidas": 11}
    assert not Posicion.objects.exists()


def test_un_lote_vacio_es_400(api, efectivo):
    respuesta = api(efectivo.usuario).post(URL, [], format="json")
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["codigo"] == "lote_vacio"


def test_un_efectivo_no_puede_enviar_posiciones_de_otro(api, efectivo):
    otro = EfectivoFactory(unidad=efectivo.unidad)
    respuesta = api(efectivo.usuario).post(URL, lectura(efectivo=otro.pk), format="json")
    assert respuesta.status_code == 400
    (rechazada,) = respuesta.json()["error"]["detalle"]["rechazadas"]
    assert "efectivo" in rechazada["errores"]
    assert not Posicion.objects.exists()


def test_un_comandante_envia_por_efectivos_de_su_unidad_y_no_de_otra(api, comandante_a, efectivo, unidad_b):
    ajeno = EfectivoFactory(unidad=unidad_b)
    respuesta = api(comandante_a).post(URL, [lectura(efectivo=efectivo.pk), lectura(efectivo=ajeno.pk)], format="json")
    assert respuesta.status_code == 400
    detalle = respuesta.json()["error"]["detalle"]
    assert detalle["aceptadas"] == 1
    assert [r["indice"] for r in detalle["rechazadas"]] == [1]
    assert list(Posicion.objects.values_list("efectivo_id", flat=True)) == [efectivo.pk]


def test_efectivo_inexistente_es_400(api, admin):
    respuesta = api(admin).post(URL, lectura(efectivo=999999), format="json")
    assert respuesta.status_code == 400
    assert "efectivo" in respuesta.json()["error"]["detalle"]["rechazadas"][0]["errores"]


def test_un_usuario_sin_legajo_debe_indicar_el_efectivo(api, comandante_a):
    respuesta = api(comandante_a).post(URL, lectura(), format="json")
    assert respuesta.status_code == 400


def test_sin_autenticar_es_401():
    assert APIClient().post(URL, lectura(), format="json").status_code == 401


@pytest.mark.parametrize("tamano", [1, 50, 400])
def test_la_cantidad_de_consultas_no_crece_con_el_lote(api, admin, django_assert_max_num_queries, tamano):
    efectivos = EfectivoFactory.create_batch(20, ultima_posicion_en=None)
    lote = [lectura(efectivo=efectivos[i % 20].pk, lat=CENTRO[1] + i * 1e-5) for i in range(tamano)]
    client = api(admin)
    with django_assert_max_num_queries(16):
        respuesta = client.post(URL, lote, format="json")
    assert respuesta.json() == {
        "aceptadas": tamano,
        "duplicadas": 0,
        "fuera_de_servicio": 0,
        "implausibles": 0,
        "imprecisas": 0,
    }


def test_listado_de_efectivos_en_geojson_con_filtros(
    api, comandante_a, efectivo, unidad_b, django_assert_max_num_queries
):
    EfectivoFactory.create_batch(3, unidad=efectivo.unidad, estado="fuera_servicio")
    EfectivoFactory(unidad=unidad_b)
    client = api(comandante_a)
    with django_assert_max_num_queries(4):
        todos = client.get("/api/v1/efectivos/").json()
    assert todos["type"] == "FeatureCollection"
    assert len(todos["features"]) == 4
    disponibles = client.get("/api/v1/efectivos/", {"estado": "disponible"}).json()
    assert [f["id"] for f in disponibles["features"]] == [efectivo.pk]
    feature = disponibles["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == pytest.approx(list(CENTRO))
    lejos = client.get("/api/v1/efectivos/", {"bbox": "-60,-40,-59,-39"}).json()
    assert lejos["features"] == []


@pytest.mark.parametrize(
    "params", [{"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,0,5,1"}, {"estado": "volando"}, {"unidad": "x"}]
)
def test_filtros_invalidos_son_400(api, comandante_a, params):
    respuesta = api(comandante_a).get("/api/v1/efectivos/", params)
    assert respuesta.status_code == 400
    assert respuesta.json()["error"]["codigo"] == "parametro_invalido"


def test_una_lectura_enviada_por_un_comandante_dice_quien_la_envio_y_se_audita(api, comandante_a, efectivo):
    from auditoria.models import Registro

    assert api(comandante_a).post(URL, lectura(efectivo=efectivo.pk), format="json").status_code == 201
    assert api(efectivo.usuario).post(URL, lectura(lat=-34.6001), format="json").status_code == 201
    por_comandante, propia = Posicion.objects.order_by("recibida_en", "id")
    assert por_comandante.registrada_por_id == comandante_a.pk
    assert propia.registrada_por_id is None
    (entrada,) = Registro.objects.filter(changes__has_key="posiciones_por_terceros")
    assert entrada.actor_id == comandante_a.pk
    assert entrada.additional_data["efectivos"] == {
        str(efectivo.pk): {"nombre": f"{efectivo.apellido}, {efectivo.nombre}", "posiciones": [por_comandante.pk]}
    }
    # The track shows who sent it, and so do the exports.
    recorrido = api(comandante_a).get(f"/api/v1/efectivos/{efectivo.pk}/recorrido/?motivo=supervision").json()
    assert [p[4] for p in recorrido["puntos"]] == ["comandante_a", None]
    from tests.exportes.test_exportes import contenido

    csv = contenido(
        api(comandante_a).get(f"/api/v1/exportes/recorridos/?formato=csv&efectivo={efectivo.pk}&motivo=supervision")
    ).decode("utf-8-sig")
    encabezado, *filas = csv.strip().splitlines()
    assert encabezado.endswith(",registrada_por")
    assert [f.rsplit(",", 1)[1] for f in filas] == ["comandante_a", ""]


def test_el_recorrido_limita_su_ventana(api, comandante_a, efectivo, settings):
    settings.RECORRIDO_VENTANA_MAX_H = 24
    hasta = timezone.now()
    r = api(comandante_a).get(
        f"/api/v1/efectivos/{efectivo.pk}/recorrido/",
        {"desde": (hasta - timedelta(hours=25)).isoformat(), "hasta": hasta.isoformat(), "motivo": "supervision"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["codigo"] == "ventana_demasiado_larga"
