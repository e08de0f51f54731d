from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from realtime.models import Evento
from tareas import services
from tests.factories import CENTRO, EfectivoFactory, TareaFactory, desplazar

pytestmark = pytest.mark.django_db


def test_emergencia_de_punta_a_punta_con_sus_eventos(api, comandante_a, efectivo, unidad_a):
    """The issue's story: a commander raises an emergency, the nearest available efectivo gets it,
    sees it in mis-tareas, accepts, starts and finishes it; the history shows every step."""
    efectivo.ultima_posicion = Point(*desplazar(*CENTRO, este_m=120), srid=4326)
    efectivo.save()
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=2500), srid=4326))
    mando, agente = api(comandante_a), api(efectivo.usuario)

    r = mando.post(
        "/api/v1/tareas/emergencia/",
        {"lat": CENTRO[1], "lon": CENTRO[0], "descripcion": "Choque en 9 de Julio"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    tarea = r.json()
    assert (tarea["tipo"], tarea["prioridad"], tarea["estado"]) == ("emergencia", 5, "asignada")
    (asignacion,) = tarea["asignaciones"]
    assert asignacion["efectivo"] == efectivo.pk
    assert asignacion["distancia_m"] == pytest.approx(120, abs=1)
    tipos = list(Evento.objects.order_by("id").values_list("tipo", flat=True))
    assert tipos[:1] == ["tarea.creada"] and {"tarea.asignada", "efectivo.estado", "tarea.estado"} <= set(tipos)
    asignada = Evento.objects.get(tipo="tarea.asignada")
    assert f"efectivo.{efectivo.pk}" in asignada.audiencia

    assert [t["id"] for t in agente.get("/api/v1/mis-tareas/").json()] == [tarea["id"]]
    for accion, estado in (("aceptar", "asignada"), ("iniciar", "en_curso"), ("finalizar", "finalizada")):
        r = agente.post(f"/api/v1/tareas/{tarea['id']}/{accion}/")
        assert r.status_code == 200, r.json()
        assert r.json()["estado"] == estado
    assert agente.get("/api/v1/mis-tareas/").json() == []
    historial = mando.get(f"/api/v1/tareas/{tarea['id']}/historial/").json()
    assert [h["estado_nuevo"] for h in historial["results"]] == [
        "programada",
        "asignada",
        "asignada",
        "en_curso",
        "finalizada",
    ]
    efectivo.refresh_from_db()
    assert efectivo.estado == "disponible"


def test_una_emergencia_sin_nadie_disponible_queda_registrada_para_despachar(api, comandante_a):
    r = api(comandante_a).post(
        "/api/v1/tareas/emergencia/", {"lat": CENTRO[1], "lon": CENTRO[0], "descripcion": "x"}, format="json"
    )
    assert r.status_code == 201
    assert (r.json()["estado"], r.json()["prioridad"], r.json()["asignaciones"]) == ("programada", 5, [])
    assert Evento.objects.filter(tipo="tarea.creada", datos__tarea_id=r.json()["id"]).exists()


def test_una_transicion_invalida_es_409_con_el_motivo(api, comandante_a, unidad_a):
    tarea = TareaFactory(unidad=unidad_a, estado="programada")
    r = api(comandante_a).post(f"/api/v1/tareas/{tarea.pk}/pausar/")
    assert r.status_code == 409
    assert r.json()["error"]["codigo"] == "transicion_invalida"
    assert r.json()["error"]["detalle"]["permitido_desde"] == ["en_curso"]


def test_cercanos_devuelve_los_mas_proximos_con_distancia(api, comandante_a, unidad_a, unidad_b):
    cerca = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=300), srid=4326))
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=900), srid=4326))
    EfectivoFactory(unidad=unidad_b, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=10), srid=4326))
    r = api(comandante_a).get("/api/v1/efectivos/cercanos/", {"lat": CENTRO[1], "lon": CENTRO[0], "k": 2})
    assert r.status_code == 200
    assert [e["id"] for e in r.json()][:1] == [cerca.pk]
    assert r.json()[0]["distancia_m"] == pytest.approx(300, abs=1)
    assert len(r.json()) == 2


@pytest.mark.parametrize(
    "params",
    [{"lon": -58}, {"lat": "x", "lon": 1}, {"lat": 1, "lon": 1, "k": 0}, {"lat": 1, "lon": 1, "estado": "en_tarea"}],
)
def test_cercanos_con_parametros_malos_es_400(api, comandante_a, params):
    assert api(comandante_a).get("/api/v1/efectivos/cercanos/", params).status_code == 400


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({}, "titulo"),
        ({"titulo": "x", "prioridad": 9}, "prioridad"),
        ({"titulo": "x", "lat": 10}, "lat"),
        ({"titulo": "x", "tipo": "fiesta"}, "tipo"),
    ],
)
def test_crear_tarea_con_datos_malos_es_400(api, comandante_a, cuerpo, campo):
    r = api(comandante_a).post("/api/v1/tareas/", cuerpo, format="json")
    assert r.status_code == 400
    assert campo in r.json()["error"]["detalle"]


def test_asignar_sin_indicar_a_quien_es_400(api, comandante_a, unidad_a):
    tarea = TareaFactory(unidad=unidad_a)
    assert api(comandante_a).post(f"/api/v1/tareas/{tarea.pk}/asignar/", {}, format="json").status_code == 400


# --- role and scope matrix ------------------------------------------------------------------------

ACCIONES = ["asignar", "aceptar", "rechazar", "iniciar", "pausar", "reanudar", "finalizar", "cancelar"]


@pytest.mark.parametrize("accion", ACCIONES)
def test_un_comandante_de_otra_unidad_no_ve_ni_toca_la_tarea(api, comandante_b, unidad_a, accion):
    tarea = TareaFactory(unidad=unidad_a, estado="en_curso")
    client = api(comandante_b)
    assert client.get(f"/api/v1/tareas/{tarea.pk}/").status_code == 404
    assert client.post(f"/api/v1/tareas/{tarea.pk}/{accion}/", {"cercanos": 1}, format="json").status_code == 404


@pytest.mark.parametrize("accion", ACCIONES)
def test_un_efectivo_no_actua_sobre_la_tarea_de_otro(api, efectivo, unidad_a, accion):
    otro = EfectivoFactory(unidad=unidad_a)
    tarea = TareaFactory(unidad=unidad_a)
    admin_like = None  # the assignment is made directly: only the other efectivo is on it
    from tareas.models import Asignacion

    Asignacion.objects.create(tarea=tarea, efectivo=otro, estado="aceptada", asignada_por=admin_like)
    r = api(efectivo.usuario).post(f"/api/v1/tareas/{tarea.pk}/{accion}/", {"cercanos": 1}, format="json")
    assert r.status_code == 404  # not even visible to them


def test_un_efectivo_no_crea_ni_despacha_ni_declara_emergencias(api, efectivo, unidad_a):
    client = api(efectivo.usuario)
    assert client.post("/api/v1/tareas/", {"titulo": "x"}, format="json").status_code == 403
    assert (
        client.post("/api/v1/tareas/emergencia/", {"lat": 1, "lon": 1, "descripcion": "x"}, format="json").status_code
        == 403
    )
    assert client.get("/api/v1/efectivos/cercanos/", {"lat": 1, "lon": 1}).status_code == 403


def test_un_efectivo_asignado_no_puede_cancelar(api, comandante_a, efectivo, unidad_a):
    tarea = services.tarea_crear(usuario=comandante_a, titulo="X", unidad_id=unidad_a.pk)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[efectivo.pk])
    assert api(efectivo.usuario).post(f"/api/v1/tareas/{tarea.pk}/cancelar/").status_code == 403


def test_un_comandante_no_crea_tareas_en_otra_unidad(api, comandante_a, unidad_b):
    r = api(comandante_a).post("/api/v1/tareas/", {"titulo": "x", "unidad": unidad_b.pk}, format="json")
    assert r.status_code == 403


def test_listado_filtra_y_acota_consultas(api, comandante_a, unidad_a, unidad_b, django_assert_max_num_queries):
    TareaFactory.create_batch(3, unidad=unidad_a, estado="programada", prioridad=2)
    TareaFactory(unidad=unidad_a, estado="en_curso", prioridad=5)
    TareaFactory(unidad=unidad_b)
    client = api(comandante_a)
    with django_assert_max_num_queries(5):
        todas = client.get("/api/v1/tareas/").json()
    assert todas["count"] == 4
    assert [t["prioridad"] for t in client.get("/api/v1/tareas/", {"estado": "en_curso"}).json()["results"]] == [5]
    assert client.get("/api/v1/tareas/", {"estado": "volando"}).status_code == 400


def test_las_tareas_no_se_borran(api, admin):
    tarea = TareaFactory()
    assert api(admin).delete(f"/api/v1/tareas/{tarea.pk}/").status_code == 405


def test_estadisticas_por_unidad_desde_la_vista_materializada(api, comandante_a, efectivo, unidad_a, unidad_b):
    EfectivoFactory(unidad=unidad_a, estado="fuera_servicio")
    EfectivoFactory(unidad=unidad_b)
    TareaFactory(unidad=unidad_a, estado="programada", prioridad=5)
    TareaFactory(unidad=unidad_a, estado="finalizada", prioridad=5)
    services.estadisticas_refrescar()
    (fila,) = api(comandante_a).get("/api/v1/estadisticas/unidades/").json()
    assert fila["unidad"] == unidad_a.pk
    assert fila["efectivos"] == {"disponibles": 1, "en_tarea": 0, "fuera_servicio": 1, "no_disponibles": 0}
    assert fila["tareas_abiertas_por_prioridad"] == {"5": 1}


def test_estadisticas_de_un_efectivo(api, comandante_a, comandante_b, efectivo, unidad_a):
    from datetime import timedelta

    from django.utils import timezone

    from tareas.models import Asignacion

    ahora = timezone.now()
    for estado, minutos in (("finalizada", 60), ("finalizada", 30), ("cancelada", None), ("en_curso", None)):
        tarea = TareaFactory(
            unidad=unidad_a,
            estado=estado,
            inicio_real=ahora - timedelta(minutes=minutos or 5),
            fin_real=ahora if minutos else None,
            tiempo_pausado=timedelta(minutes=10) if minutos == 60 else timedelta(0),
        )
        Asignacion.objects.create(tarea=tarea, efectivo=efectivo, estado="liberada")
    cuerpo = api(comandante_a).get(f"/api/v1/efectivos/{efectivo.pk}/estadisticas/").json()
    assert cuerpo["por_estado"] == {"finalizada": 2, "cancelada": 1, "en_curso": 1}
    assert cuerpo["duracion_media_s"] == pytest.approx(40 * 60, abs=2)  # (50 + 30) / 2 minutes
    assert cuerpo["tasa_finalizacion"] == pytest.approx(2 / 3)
    assert api(efectivo.usuario).get(f"/api/v1/efectivos/{efectivo.pk}/estadisticas/").status_code == 200
    assert api(comandante_b).get(f"/api/v1/efectivos/{efectivo.pk}/estadisticas/").status_code == 404
    assert api(comandante_a).get(f"/api/v1/efectivos/{efectivo.pk}/estadisticas/", {"dias": 0}).status_code == 400


def test_un_comandante_edita_el_plan_de_una_tarea_abierta_y_se_publica(api, comandante_a, unidad_a):
    tarea = TareaFactory(unidad=unidad_a, estado="programada", prioridad=2)
    r = api(comandante_a).patch(
        f"/api/v1/tareas/{tarea.pk}/", {"prioridad": 4, "lat": -34.6, "lon": -58.4}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["prioridad"], r.json()["lat"], r.json()["lon"], r.json()["estado"]) == (
        4,
        -34.6,
        -58.4,
        "programada",
    )
    assert Evento.objects.get(tipo="tarea.actualizada").datos["prioridad"] == 4


def test_una_tarea_cerrada_no_se_edita_y_la_unidad_tampoco(api, comandante_a, comandante_b, unidad_a):
    cerrada = TareaFactory(unidad=unidad_a, estado="finalizada")
    abierta = TareaFactory(unidad=unidad_a)
    assert api(comandante_a).patch(f"/api/v1/tareas/{cerrada.pk}/", {"titulo": "x"}, format="json").status_code == 409
    assert api(comandante_a).patch(f"/api/v1/tareas/{abierta.pk}/", {"unidad": 99}, format="json").status_code == 400
    assert api(comandante_b).patch(f"/api/v1/tareas/{abierta.pk}/", {"titulo": "x"}, format="json").status_code == 404
