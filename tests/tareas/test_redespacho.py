"""Closing the dispatch loop: assignments not accepted in time are released and re-dispatched,
rejections re-dispatch at once, a task nobody can cover says so, and a commander can cancel,
release, reassign and reopen from the same services; every bad move is a 4xx with nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from efectivos.models import Efectivo, Rol
from gad_project.exceptions import Conflicto, EntradaInvalida, NoEncontrado
from realtime.models import Evento
from tareas import services
from tareas.models import Asignacion, Tarea
from tests.factories import CENTRO, EfectivoFactory, UsuarioFactory, desplazar

pytestmark = pytest.mark.django_db


def _cerca(unidad, metros: float, **kw) -> Efectivo:
    return EfectivoFactory(unidad=unidad, ultima_posicion=Point(*desplazar(*CENTRO, este_m=metros), srid=4326), **kw)


def _tarea(usuario, unidad, **kw) -> Tarea:
    return services.tarea_crear(
        usuario=usuario, titulo="Disturbios", unidad_id=unidad.pk, lat=CENTRO[1], lon=CENTRO[0], **kw
    )


def test_el_plazo_depende_de_la_prioridad_y_se_puede_fijar_por_tarea(comandante_a, unidad_a, settings):
    settings.DESPACHO_ACEPTAR_S = [900, 600, 300, 120, 60]
    _cerca(unidad_a, 100)
    _cerca(unidad_a, 200)
    critica = _tarea(comandante_a, unidad_a, prioridad=5)
    services.tarea_asignar(tarea_id=critica.pk, usuario=comandante_a, cercanos=1)
    a = Asignacion.objects.get(tarea=critica)
    assert a.vence_en - a.asignada_en == pytest.approx(timedelta(seconds=60), abs=timedelta(seconds=1))
    propia = _tarea(comandante_a, unidad_a, prioridad=1, plazo_aceptar_s=45)
    services.tarea_asignar(tarea_id=propia.pk, usuario=comandante_a, cercanos=1)
    b = Asignacion.objects.get(tarea=propia)
    assert b.vence_en - b.asignada_en == pytest.approx(timedelta(seconds=45), abs=timedelta(seconds=1))


def test_una_asignacion_sin_respuesta_se_libera_y_va_al_siguiente_mas_cercano(comandante_a, unidad_a):
    primero, segundo, tercero = _cerca(unidad_a, 100), _cerca(unidad_a, 300), _cerca(unidad_a, 600)
    tarea = _tarea(comandante_a, unidad_a, prioridad=5)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=2)
    assert Tarea.objects.get(pk=tarea.pk).requeridos == 2
    Asignacion.objects.filter(efectivo=segundo).update(estado="aceptada")  # one answered in time
    ahora = timezone.now()
    assert services.asignaciones_vencer(ahora=ahora) == 0  # not due yet
    assert services.asignaciones_vencer(ahora=ahora + timedelta(minutes=2)) == 1
    vivas = dict(
        Asignacion.objects.filter(tarea=tarea, estado__in=["pendiente", "aceptada"]).values_list(
            "efectivo_id", "estado"
        )
    )
    assert vivas == {segundo.pk: "aceptada", tercero.pk: "pendiente"}  # filled back up to two
    liberada = Asignacion.objects.get(tarea=tarea, efectivo=primero)
    assert (liberada.estado, liberada.motivo) == ("liberada", "sin respuesta")
    primero.refresh_from_db()
    assert primero.estado == "disponible"
    aviso = Evento.objects.filter(tipo="tarea.asignacion", datos__efectivo_id=primero.pk).get()
    assert aviso.datos["respuesta"] == "vencida" and f"efectivo.{primero.pk}" in aviso.audiencia
    assert Evento.objects.filter(tipo="tarea.asignada", datos__efectivo_id=tercero.pk).exists()
    historial = list(tarea.eventos.values_list("motivo", flat=True))
    assert any("sin respuesta a tiempo" in m and primero.apellido in m for m in historial)


def test_sin_nadie_en_rango_la_tarea_queda_sin_cubrir_y_el_mando_lo_sabe(comandante_a, unidad_a, settings):
    settings.DESPACHO_REFUERZOS = False
    unico = _cerca(unidad_a, 100)
    tarea = _tarea(comandante_a, unidad_a, prioridad=5)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    services.asignaciones_vencer(ahora=timezone.now() + timedelta(minutes=2))
    tarea.refresh_from_db()
    assert tarea.corta_desde is not None and tarea.estado == "programada"
    evento = Evento.objects.get(tipo="tarea.sin_cubrir")
    assert (evento.datos["tarea_id"], evento.datos["faltan"]) == (tarea.pk, 1)
    assert set(evento.audiencia) == {"rol.administrador", f"unidad.{unidad_a.pk}"}
    # Nobody new yet: reopening says so (409) and changes nothing.
    with pytest.raises(Conflicto):
        services.tarea_busqueda_reabrir(tarea_id=tarea.pk, usuario=comandante_a)
    assert Tarea.objects.get(pk=tarea.pk).corta_desde == tarea.corta_desde
    # Someone comes on duty nearby: the commander reopens the search and they are dispatched.
    nuevo = _cerca(unidad_a, 200)
    assert services.tarea_busqueda_reabrir(tarea_id=tarea.pk, usuario=comandante_a) == 1
    tarea.refresh_from_db()
    assert tarea.corta_desde is None and tarea.estado == "asignada"
    assert Asignacion.objects.get(tarea=tarea, estado="pendiente").efectivo_id == nuevo.pk
    assert unico.pk != nuevo.pk
    # The history says who: the commander who reopened it; the timeout's release was the system.
    assert [e for e in tarea.eventos.order_by("id") if e.motivo.startswith("asignada")][-1].usuario == comandante_a
    assert [e.usuario for e in tarea.eventos.all() if e.motivo.startswith("sin respuesta a tiempo")] == [None]


def test_un_rechazo_redespacha_al_instante_hasta_completar(comandante_a, efectivo, unidad_a):
    efectivo.ultima_posicion = Point(*desplazar(*CENTRO, este_m=50), srid=4326)
    efectivo.save()
    otro = _cerca(unidad_a, 150)
    siguiente = _cerca(unidad_a, 400)
    tarea = _tarea(comandante_a, unidad_a)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=2)
    services.asignacion_responder(tarea_id=tarea.pk, usuario=efectivo.usuario, acepta=False, motivo="Estoy lejos")
    vivas = set(Asignacion.objects.filter(tarea=tarea, estado="pendiente").values_list("efectivo_id", flat=True))
    assert vivas == {otro.pk, siguiente.pk}  # the other one stays; the next nearest fills the gap
    assert Asignacion.objects.get(tarea=tarea, efectivo=efectivo).motivo == "Estoy lejos"


def test_el_mando_libera_reasigna_y_cancela(comandante_a, unidad_a, unidad_b):
    a, b, c = _cerca(unidad_a, 100), _cerca(unidad_a, 200), _cerca(unidad_a, 300)
    ocupado = _cerca(unidad_a, 50, estado="en_tarea")
    ajeno = _cerca(unidad_b, 60)
    tarea = _tarea(comandante_a, unidad_a)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[a.pk, b.pk])
    services.tarea_reasignar(tarea_id=tarea.pk, de_efectivo=a.pk, a_efectivo=c.pk, usuario=comandante_a)
    vivas = set(Asignacion.objects.filter(tarea=tarea, estado="pendiente").values_list("efectivo_id", flat=True))
    assert vivas == {b.pk, c.pk}
    assert Evento.objects.filter(
        tipo="tarea.asignacion", datos__efectivo_id=a.pk, datos__respuesta="reasignada"
    ).exists()
    # To someone busy, or of another unidad: refused, and nothing changed.
    with pytest.raises(Conflicto):
        services.tarea_reasignar(tarea_id=tarea.pk, de_efectivo=b.pk, a_efectivo=ocupado.pk, usuario=comandante_a)
    with pytest.raises(EntradaInvalida):
        services.tarea_reasignar(tarea_id=tarea.pk, de_efectivo=b.pk, a_efectivo=ajeno.pk, usuario=comandante_a)
    assert set(Asignacion.objects.filter(tarea=tarea, estado="pendiente").values_list("efectivo_id", flat=True)) == {
        b.pk,
        c.pk,
    }
    assert Efectivo.objects.get(pk=b.pk).estado == "en_tarea"
    with pytest.raises(NoEncontrado):
        services.asignacion_liberar(tarea_id=tarea.pk, efectivo_id=a.pk, usuario=comandante_a)
    services.asignacion_liberar(tarea_id=tarea.pk, efectivo_id=b.pk, usuario=comandante_a, motivo="otra urgencia")
    tarea.refresh_from_db()
    assert tarea.requeridos == 1 and Efectivo.objects.get(pk=b.pk).estado == "disponible"
    services.tarea_transicionar(tarea_id=tarea.pk, accion="cancelar", usuario=comandante_a, motivo="se resolvió solo")
    assert Efectivo.objects.get(pk=c.pk).estado == "disponible"
    with pytest.raises(services.TransicionInvalida):
        services.tarea_transicionar(tarea_id=tarea.pk, accion="cancelar", usuario=comandante_a)


def test_el_historial_muestra_al_sistema_como_nadie(api, comandante_a, unidad_a):
    _cerca(unidad_a, 100)
    tarea = _tarea(comandante_a, unidad_a, prioridad=5)
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    services.asignaciones_vencer(ahora=timezone.now() + timedelta(minutes=2))
    r = api(comandante_a).get(f"/api/v1/tareas/{tarea.pk}/historial/")
    assert r.status_code == 200
    assert [e["usuario"] for e in r.json()["results"] if e["motivo"].startswith("sin respuesta")] == [None]


def test_api_malas_jugadas_4xx_sin_cambios(api, comandante_a, comandante_b, unidad_a):
    a, b = _cerca(unidad_a, 100), _cerca(unidad_a, 200)
    cliente = api(comandante_a)
    r = cliente.post(
        "/api/v1/tareas/", {"titulo": "x", "lat": CENTRO[1], "lon": CENTRO[0], "plazo_aceptar_s": 0}, format="json"
    )
    assert r.status_code == 400 and "plazo_aceptar_s" in r.json()["error"]["detalle"]
    r = cliente.post(
        "/api/v1/tareas/", {"titulo": "x", "lat": CENTRO[1], "lon": CENTRO[0], "plazo_aceptar_s": -5}, format="json"
    )
    assert r.status_code == 400
    emergencia = cliente.post(
        "/api/v1/tareas/emergencia/",
        {"lat": CENTRO[1], "lon": CENTRO[0], "descripcion": "Choque", "efectivos": 1},
        format="json",
    ).json()
    [unico] = [x["efectivo"] for x in emergencia["asignaciones"]]
    r = cliente.post(f"/api/v1/tareas/{emergencia['id']}/liberar/", {"efectivo": unico}, format="json")
    assert (r.status_code, r.json()["error"]["codigo"]) == (409, "ultimo_de_emergencia")
    otro = b.pk if unico == a.pk else a.pk
    r = api(comandante_b).post(f"/api/v1/tareas/{emergencia['id']}/reasignar/", {"de": unico, "a": otro}, format="json")
    assert r.status_code in (403, 404)
    r = cliente.post(f"/api/v1/tareas/{emergencia['id']}/reasignar/", {"de": unico, "a": unico}, format="json")
    assert r.status_code == 400
    assert Asignacion.objects.get(tarea_id=emergencia["id"], estado="pendiente").efectivo_id == unico
    cliente.post(f"/api/v1/tareas/{emergencia['id']}/cancelar/", {"motivo": "falsa alarma"}, format="json")
    r = cliente.post(f"/api/v1/tareas/{emergencia['id']}/cancelar/", {}, format="json")
    assert r.status_code == 409
    r = cliente.post(f"/api/v1/tareas/{emergencia['id']}/buscar/")
    assert r.status_code == 409


def test_configurar_un_plazo_cero_o_negativo_no_arranca():
    for valor in ("0,60,60,60,60", "-1,1,1,1,1", "60,60", "a,b,c,d,e"):
        r = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gad_project.settings'); django.setup()",
            ],
            env={**os.environ, "DESPACHO_ACEPTAR_S": valor},
            capture_output=True,
            text=True,
        )
        assert r.returncode != 0 and "DESPACHO_ACEPTAR_S" in r.stderr, (valor, r.stderr[-300:])


@pytest.mark.django_db(transaction=True)
def test_dos_barridos_y_una_aceptacion_a_la_vez_nunca_duplican_ni_pierden(unidad_a):
    mando = UsuarioFactory(rol=Rol.COMANDANTE, unidad=unidad_a)
    for i in range(12):
        _cerca(unidad_a, 50 * (i + 1), usuario=UsuarioFactory(rol=Rol.EFECTIVO))
    tareas = [_tarea(mando, unidad_a, prioridad=5) for _ in range(4)]
    for t in tareas:
        services.tarea_asignar(tarea_id=t.pk, usuario=mando, cercanos=1)
    primeros = {a.tarea_id: a.efectivo for a in Asignacion.objects.select_related("efectivo__usuario")}
    despues = timezone.now() + timedelta(minutes=2)
    barrera = threading.Barrier(3)
    errores: list[Exception] = []
    aceptadas: list[int] = []

    def barrer():
        try:
            barrera.wait()
            services.asignaciones_vencer(ahora=despues)
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            errores.append(exc)
        finally:
            connection.close()

    def aceptar():
        # The first task's officer answers at the very moment the sweep runs.
        t = tareas[0]
        try:
            barrera.wait()
            services.asignacion_responder(tarea_id=t.pk, usuario=primeros[t.pk].usuario, acepta=True)
            aceptadas.append(t.pk)
        except Exception as exc:  # noqa: BLE001 - either outcome is valid; a crash is not
            if not isinstance(exc, Conflicto):
                errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=barrer), threading.Thread(target=barrer), threading.Thread(target=aceptar)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    assert errores == []
    for t in tareas:
        vivas = list(Asignacion.objects.filter(tarea=t, estado__in=["pendiente", "aceptada"]))
        assert len(vivas) == 1, (t.pk, vivas)  # exactly filled back up, never twice
        if t.pk in aceptadas:
            assert vivas[0].efectivo_id == primeros[t.pk].pk and vivas[0].estado == "aceptada"
    vivos = list(Asignacion.objects.filter(estado__in=["pendiente", "aceptada"]).values_list("efectivo_id", flat=True))
    assert len(vivos) == len(set(vivos))  # nobody on two tasks
    # Each first assignee who did not accept was released once (with `ahora` two minutes ahead, a
    # second sweep may also time out a replacement just dispatched: that is the clock, not a double).
    vencidas = Evento.objects.filter(tipo="tarea.asignacion", datos__respuesta="vencida")
    pares = {(t, e.pk) for t, e in primeros.items()}
    liberados = [(e.datos["tarea_id"], e.datos["efectivo_id"]) for e in vencidas]
    liberados = sorted(p for p in liberados if p in pares)
    assert liberados == sorted((t.pk, primeros[t.pk].pk) for t in tareas if t.pk not in aceptadas)


@pytest.mark.django_db(transaction=True)
def test_cancelar_y_aceptar_a_la_vez_dejan_un_estado_coherente(unidad_a):
    mando = UsuarioFactory(rol=Rol.COMANDANTE, unidad=unidad_a)
    oficial = _cerca(unidad_a, 100, usuario=UsuarioFactory(rol=Rol.EFECTIVO))
    for _ in range(5):
        tarea = _tarea(mando, unidad_a)
        services.tarea_asignar(tarea_id=tarea.pk, usuario=mando, efectivos=[oficial.pk])
        barrera = threading.Barrier(2)
        resultados: dict[str, object] = {}

        def correr(nombre, fn, barrera=barrera, resultados=resultados):
            try:
                barrera.wait()
                fn()
                resultados[nombre] = "ok"
            except Conflicto as exc:
                resultados[nombre] = exc.codigo
            except Exception as exc:  # noqa: BLE001 - asserted below: never a crash
                resultados[nombre] = exc
            finally:
                connection.close()

        hilos = [
            threading.Thread(
                target=correr,
                args=(
                    "cancelar",
                    lambda t=tarea: services.tarea_transicionar(tarea_id=t.pk, accion="cancelar", usuario=mando),
                ),
            ),
            threading.Thread(
                target=correr,
                args=(
                    "aceptar",
                    lambda t=tarea: services.asignacion_responder(tarea_id=t.pk, usuario=oficial.usuario, acepta=True),
                ),
            ),
        ]
        for h in hilos:
            h.start()
        for h in hilos:
            h.join()
        assert resultados["cancelar"] == "ok"
        assert resultados["aceptar"] in ("ok", "sin_asignacion_pendiente"), resultados
        assert Tarea.objects.get(pk=tarea.pk).estado == "cancelada"
        assert not Asignacion.objects.filter(tarea=tarea, estado__in=["pendiente", "aceptada"]).exists()
        assert Efectivo.objects.get(pk=oficial.pk).estado == "disponible"
