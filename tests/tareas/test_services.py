from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from efectivos.models import Efectivo
from gad_project.exceptions import Conflicto, NoPermitido
from realtime.models import Evento
from tareas import selectors, services
from tareas.models import Asignacion, EstadoTarea, Tarea
from tests.factories import CENTRO, EfectivoFactory, TareaFactory, UnidadFactory, desplazar

pytestmark = pytest.mark.django_db

TODOS = [e.value for e in EstadoTarea]


@pytest.mark.parametrize("accion", sorted(services.TRANSICIONES))
@pytest.mark.parametrize("estado", TODOS)
def test_cada_transicion_legal_avanza_y_cada_ilegal_es_409(admin, accion, estado):
    tarea = TareaFactory(estado=estado, pausada_en=timezone.now() if estado == "pausada" else None)
    desde, hacia = services.TRANSICIONES[accion]
    if estado in desde:
        services.tarea_transicionar(tarea_id=tarea.pk, accion=accion, usuario=admin)
        tarea.refresh_from_db()
        assert tarea.estado == hacia
        evento = tarea.eventos.get()
        assert (evento.estado_anterior, evento.estado_nuevo, evento.usuario) == (estado, hacia, admin)
    else:
        with pytest.raises(services.TransicionInvalida):
            services.tarea_transicionar(tarea_id=tarea.pk, accion=accion, usuario=admin)
        tarea.refresh_from_db()
        assert tarea.estado == estado
        assert not tarea.eventos.exists()


def test_el_tiempo_en_pausa_se_acumula_y_no_cuenta_como_trabajo(admin):
    tarea = TareaFactory(estado="en_curso", inicio_real=timezone.now() - timedelta(minutes=30))
    services.tarea_transicionar(tarea_id=tarea.pk, accion="pausar", usuario=admin)
    Tarea.objects.filter(pk=tarea.pk).update(pausada_en=timezone.now() - timedelta(minutes=10))
    services.tarea_transicionar(tarea_id=tarea.pk, accion="reanudar", usuario=admin)
    services.tarea_transicionar(tarea_id=tarea.pk, accion="pausar", usuario=admin)
    Tarea.objects.filter(pk=tarea.pk).update(pausada_en=timezone.now() - timedelta(minutes=5))
    services.tarea_transicionar(tarea_id=tarea.pk, accion="finalizar", usuario=admin)
    tarea.refresh_from_db()
    assert tarea.estado == "finalizada"
    assert timedelta(minutes=15) <= tarea.tiempo_pausado < timedelta(minutes=15, seconds=5)
    assert tarea.pausada_en is None
    assert tarea.fin_real is not None


def _efectivos_al_azar(unidad, n: int, rnd: random.Random) -> list[Efectivo]:
    return [
        EfectivoFactory(
            unidad=unidad,
            ultima_posicion=Point(
                *desplazar(*CENTRO, este_m=rnd.uniform(-8000, 8000), norte_m=rnd.uniform(-8000, 8000)), srid=4326
            ),
        )
        for _ in range(n)
    ]


def test_los_mas_cercanos_coinciden_con_un_ranking_geodesico_por_fuerza_bruta():
    rnd = random.Random(11)
    unidad = UnidadFactory()
    _efectivos_al_azar(unidad, 300, rnd)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE efectivos_efectivo")
    for _ in range(10):
        lon, lat = desplazar(*CENTRO, este_m=rnd.uniform(-5000, 5000), norte_m=rnd.uniform(-5000, 5000))
        cercanos = selectors.efectivos_cercanos(lat=lat, lon=lon, k=7)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, ST_Distance(ultima_posicion::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) d "
                "FROM efectivos_efectivo ORDER BY d LIMIT 7",
                [lon, lat],
            )
            bruto = cursor.fetchall()
        assert [c.efectivo_id for c in cercanos] == [i for i, _ in bruto]
        assert [c.distancia_m for c in cercanos] == pytest.approx([d for _, d in bruto], abs=1.0)


def test_nunca_elige_no_disponibles_ni_de_otra_unidad_ni_con_fix_viejo():
    unidad, otra = UnidadFactory(), UnidadFactory()
    cerca = Point(*desplazar(*CENTRO, este_m=10), srid=4326)
    EfectivoFactory(unidad=unidad, ultima_posicion=cerca, estado="fuera_servicio")
    EfectivoFactory(unidad=unidad, ultima_posicion=cerca, estado="en_tarea")
    EfectivoFactory(unidad=otra, ultima_posicion=cerca)
    EfectivoFactory(unidad=unidad, ultima_posicion=cerca, ultima_posicion_en=timezone.now() - timedelta(hours=2))
    bueno = EfectivoFactory(unidad=unidad, ultima_posicion=Point(*desplazar(*CENTRO, este_m=900), srid=4326))
    cercanos = selectors.efectivos_cercanos(lat=CENTRO[1], lon=CENTRO[0], k=5, unidad_id=unidad.pk)
    assert [c.efectivo_id for c in cercanos] == [bueno.pk]
    assert cercanos[0].distancia_m == pytest.approx(900, abs=2)
    assert selectors.efectivos_cercanos(lat=CENTRO[1], lon=CENTRO[0], k=5, unidad_id=unidad.pk, radio_m=500) == []


def test_asignar_los_cercanos_los_ocupa_y_publica(comandante_a, unidad_a):
    lejos = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=3000), srid=4326))
    cerca = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=100), srid=4326))
    tarea = services.tarea_crear(
        usuario=comandante_a, titulo="Robo", unidad_id=unidad_a.pk, lat=CENTRO[1], lon=CENTRO[0]
    )
    (asignado,) = services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    assert asignado.efectivo == cerca
    assert asignado.distancia_m == pytest.approx(100, abs=1)
    cerca.refresh_from_db()
    lejos.refresh_from_db()
    assert (cerca.estado, lejos.estado) == ("en_tarea", "disponible")
    tarea.refresh_from_db()
    assert (tarea.estado, tarea.delegado_id) == ("asignada", cerca.pk)
    evento = Evento.objects.get(tipo="tarea.asignada")
    assert evento.datos["efectivo_id"] == cerca.pk
    assert f"efectivo.{cerca.pk}" in evento.audiencia and f"unidad.{unidad_a.pk}" in evento.audiencia
    assert Evento.objects.filter(tipo="efectivo.estado", datos__efectivo_id=cerca.pk).exists()


def test_un_rechazo_libera_al_efectivo_y_redespacha_al_siguiente(comandante_a, efectivo, unidad_a):
    efectivo.ultima_posicion = Point(*desplazar(*CENTRO, este_m=50), srid=4326)
    efectivo.save()
    siguiente = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=400), srid=4326))
    tarea = services.tarea_crear(
        usuario=comandante_a, titulo="Ruidos", unidad_id=unidad_a.pk, lat=CENTRO[1], lon=CENTRO[0]
    )
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    services.asignacion_responder(tarea_id=tarea.pk, usuario=efectivo.usuario, acepta=False, motivo="otro hecho")
    efectivo.refresh_from_db()
    assert efectivo.estado == "disponible"
    vivas = Asignacion.objects.filter(tarea=tarea, estado__in=["pendiente", "aceptada"])
    assert [a.efectivo_id for a in vivas] == [siguiente.pk]
    assert Asignacion.objects.get(tarea=tarea, efectivo=efectivo).estado == "rechazada"


def test_finalizar_libera_a_los_efectivos(comandante_a, efectivo, unidad_a):
    tarea = services.tarea_crear(usuario=comandante_a, titulo="X", unidad_id=unidad_a.pk)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[efectivo.pk])
    services.asignacion_responder(tarea_id=tarea.pk, usuario=efectivo.usuario, acepta=True)
    for accion in ("iniciar", "pausar", "reanudar", "finalizar"):
        services.tarea_transicionar(tarea_id=tarea.pk, accion=accion, usuario=efectivo.usuario)
    efectivo.refresh_from_db()
    assert efectivo.estado == "disponible"
    assert Asignacion.objects.get(tarea=tarea).estado == "liberada"
    assert [e.estado_nuevo for e in tarea.eventos.order_by("id")] == [
        "programada",
        "asignada",
        "asignada",
        "en_curso",
        "pausada",
        "en_curso",
        "finalizada",
    ]


def test_un_efectivo_no_actua_sobre_una_tarea_ajena_ni_cancela(comandante_a, efectivo, unidad_a):
    tarea = services.tarea_crear(usuario=comandante_a, titulo="X", unidad_id=unidad_a.pk)
    otro = EfectivoFactory(unidad=unidad_a)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[otro.pk])
    with pytest.raises(NoPermitido):
        services.tarea_transicionar(tarea_id=tarea.pk, accion="iniciar", usuario=efectivo.usuario)
    with pytest.raises(Conflicto):
        services.asignacion_responder(tarea_id=tarea.pk, usuario=efectivo.usuario, acepta=True)
    with pytest.raises(NoPermitido):
        services.tarea_transicionar(tarea_id=tarea.pk, accion="cancelar", usuario=efectivo.usuario)


def test_un_comandante_no_despacha_tareas_de_otra_unidad(comandante_b, unidad_a):
    tarea = TareaFactory(unidad=unidad_a)
    with pytest.raises(NoPermitido):
        services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_b, cercanos=1)


@pytest.mark.django_db(transaction=True)
def test_50_despachos_concurrentes_nunca_asignan_dos_veces_al_mismo_efectivo(admin):
    unidad = UnidadFactory()
    rnd = random.Random(5)
    _efectivos_al_azar(unidad, 20, rnd)
    tareas = [
        services.tarea_crear(usuario=admin, titulo=f"T{i}", unidad_id=unidad.pk, lat=CENTRO[1], lon=CENTRO[0])
        for i in range(50)
    ]
    barrera = threading.Barrier(10)
    errores: list[Exception] = []
    sin_efectivos = []

    def despachar(lote):
        try:
            barrera.wait()
            for tarea in lote:
                try:
                    services.tarea_asignar(tarea_id=tarea.pk, usuario=admin, cercanos=1)
                except Conflicto:
                    sin_efectivos.append(tarea.pk)
        except Exception as exc:  # noqa: BLE001 - collected and asserted empty below
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=despachar, args=(tareas[i::10],)) for i in range(10)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    assert errores == []
    vivas = list(Asignacion.objects.filter(estado="pendiente").values_list("efectivo_id", "tarea_id"))
    assert len(vivas) == 20
    assert len({e for e, _ in vivas}) == 20  # no efectivo on two tasks
    asignadas = {t for _, t in vivas}
    assert len(sin_efectivos) == 30
    assert asignadas | set(sin_efectivos) == {t.pk for t in tareas}  # no task lost
    assert set(Tarea.objects.filter(pk__in=sin_efectivos).values_list("estado", flat=True)) == {"programada"}
    assert set(Efectivo.objects.filter(unidad=unidad).values_list("estado", flat=True)) == {"en_tarea"}
