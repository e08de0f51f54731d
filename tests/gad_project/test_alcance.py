"""The role x action matrix, in one place: every persona against every scoped read and guarded
write, through the one scope module (efectivos.alcance) and the selectors and services built on
it. A cell is True when the persona may do it to unidad A's things."""

from __future__ import annotations

import contextlib

import pytest
from django.core.exceptions import ObjectDoesNotExist

from auditoria import registro
from efectivos import selectors as efectivos_selectors
from efectivos.alcance import alcance_de
from gad_project import rls
from gad_project.exceptions import NoEncontrado, NoPermitido
from geocercas import selectors as geocercas_selectors
from mapa import tiles
from realtime import grupos
from tareas import selectors as tareas_selectors
from tareas import services as tareas_services
from telegram_bot import services as telegram_services
from tests.factories import EfectivoFactory, GeocercaFactory, TareaFactory, UsuarioFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["admin", "comandante_a", "comandante_b", "efectivo", "ajeno"]


@pytest.fixture
def mundo(admin, comandante_a, comandante_b, efectivo, ajeno, unidad_a, unidad_b):
    otro_a = EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol="efectivo"))
    cerca_a = GeocercaFactory()
    cerca_a.unidades.set([unidad_a])
    tarea_a = TareaFactory(unidad=unidad_a)
    tarea_a.asignaciones.create(efectivo=efectivo, estado="aceptada")
    return {
        "personas": {
            "admin": admin,
            "comandante_a": comandante_a,
            "comandante_b": comandante_b,
            "efectivo": efectivo.usuario,
            "ajeno": ajeno,
        },
        "efectivo": efectivo,
        "otro_a": otro_a,
        "cerca_a": cerca_a,
        "tarea_a": tarea_a,
        "unidad_a": unidad_a,
    }


def _puede(accion) -> bool:
    try:
        return bool(accion())
    except (NoPermitido, NoEncontrado, ObjectDoesNotExist):  # refused, or not even there: may not
        return False


# persona -> expected result, per action
MATRIZ = {
    "ve_al_efectivo": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 1, "ajeno": 0},
    "ve_a_otro_de_su_unidad": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 0, "ajeno": 0},
    "ve_la_tarea": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 1, "ajeno": 0},
    "ve_la_geocerca": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 1, "ajeno": 0},
    "edita_la_geocerca": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 0, "ajeno": 0},
    "crea_tarea_en_la_unidad": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 0, "ajeno": 0},
    "cancela_la_tarea": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 0, "ajeno": 0},
    "despacha": {"admin": 1, "comandante_a": 1, "comandante_b": 1, "efectivo": 0, "ajeno": 0},
    "envia_posicion_del_efectivo": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 1, "ajeno": 0},
    "vincula_telegram_del_efectivo": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 0, "ajeno": 0},
    "recibe_eventos_de_la_unidad": {"admin": 1, "comandante_a": 1, "comandante_b": 0, "efectivo": 0, "ajeno": 0},
    "pide_teselas": {"admin": 1, "comandante_a": 1, "comandante_b": 1, "efectivo": 0, "ajeno": 0},
}


def _acciones(m, usuario):
    efectivo, tarea, unidad = m["efectivo"], m["tarea_a"], m["unidad_a"]
    return {
        "ve_al_efectivo": lambda: (
            efectivos_selectors.efectivos_visibles(usuario=usuario).filter(pk=efectivo.pk).exists()
        ),
        "ve_a_otro_de_su_unidad": lambda: (
            efectivos_selectors.efectivos_visibles(usuario=usuario).filter(pk=m["otro_a"].pk).exists()
        ),
        "ve_la_tarea": lambda: tareas_selectors.tareas_visibles(usuario=usuario).filter(pk=tarea.pk).exists(),
        "ve_la_geocerca": lambda: (
            geocercas_selectors.geocercas_visibles(usuario=usuario).filter(pk=m["cerca_a"].pk).exists()
        ),
        "edita_la_geocerca": lambda: geocercas_selectors.geocerca_editable(usuario=usuario, geocerca=m["cerca_a"]),
        "crea_tarea_en_la_unidad": lambda: tareas_services.tarea_crear(
            usuario=usuario, titulo="x", unidad_id=unidad.pk
        ),
        "cancela_la_tarea": lambda: tareas_services.tarea_transicionar(
            tarea_id=tarea.pk, usuario=usuario, accion="cancelar", motivo="prueba"
        ),
        "despacha": lambda: tareas_selectors.alcance_de_despacho(usuario=usuario) in (None, usuario.unidad_id),
        "envia_posicion_del_efectivo": lambda: alcance_de(usuario).incluye_efectivo(
            efectivo_id=efectivo.pk, unidad_id=unidad.pk
        ),
        "vincula_telegram_del_efectivo": lambda: telegram_services.codigo_generar(
            efectivo_id=efectivo.pk, creado_por=usuario
        ),
        "recibe_eventos_de_la_unidad": lambda: bool(
            set(grupos.de_usuario(usuario)) & set(grupos.mando_de_unidad(unidad.pk))
        ),
        "pide_teselas": lambda: tiles.alcance_teselas(usuario) is not None,
    }


@pytest.mark.parametrize("accion", sorted(MATRIZ))
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("muro", [False, True], ids=["app", "con_rls"])
def test_la_matriz_de_roles_y_acciones(mundo, persona, accion, muro, request):
    """Also as the web servers run it (con_rls): the runtime role under row-level security, the
    persona's context set. The wall must not take away anything the application allows."""
    usuario = mundo["personas"][persona]
    esperado = bool(MATRIZ[accion][persona])
    if muro:
        request.getfixturevalue("pared")
    with contextlib.ExitStack() as pila:
        if muro:  # what a request carries: the database's context, and the audit trail's
            pila.enter_context(rls.usar(rls.de_usuario(usuario)))
            pila.enter_context(registro.contexto(actor=lambda: usuario, interfaz="api"))
        assert _puede(_acciones(mundo, usuario)[accion]) is esperado


def test_un_usuario_inactivo_no_ve_nada(mundo):
    usuario = mundo["personas"]["comandante_a"]
    usuario.is_active = False
    assert alcance_de(usuario).es_mando is False
    assert not efectivos_selectors.efectivos_visibles(usuario=usuario).exists()
