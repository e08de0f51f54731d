"""The commanders' map in headless Chromium against a real daphne with the demo data: what a
commander sees and does, end to end. Screenshots land in .run/artefactos/."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from auditoria.models import Registro
from efectivos.models import Efectivo, EstadoEfectivo
from geocercas.models import Alerta
from tareas.models import Asignacion, Tarea, TipoTarea
from tests.factories import desplazar
from tests.mapa.test_navegador_base import para_readme
from tests.navegador import captura, ingresar, navegador  # noqa: F401 (fixture)
from tests.vivo import TIEMPO_COMPRIMIDO, daphne, post_json, token

CASA_ROSADA = (-58.3703, -34.6081)  # a demo restricted zone, radius ~110 m, applies to every unidad


@pytest.fixture
def demo(transactional_db):
    call_command("cargar_demo", verbosity=0)


@pytest.fixture
def servidor(demo):
    with daphne(**TIEMPO_COMPRIMIDO) as url:
        yield url


def abrir_mapa(browser, url: str, usuario: str, clave: str):
    pagina = ingresar(browser, url, usuario, clave)
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=10_000)
    return pagina


def de_servicio():
    """The demo's CC1 officers without an account who are on duty (its "fuera de servicio" ones
    have no shift: their readings are not stored)."""
    return Efectivo.objects.filter(unidad__codigo="CC1", usuario__isnull=True).exclude(
        estado=EstadoEfectivo.FUERA_SERVICIO
    )


def en_pantalla(pagina, lon: float, lat: float) -> tuple[float, float]:
    caja = pagina.locator("#mapa canvas").bounding_box()
    p = pagina.evaluate(f"(() => {{ const p = window.gadMapa.map.project([{lon}, {lat}]); return [p.x, p.y]; }})()")
    return caja["x"] + p[0], caja["y"] + p[1]


def cerca() -> tuple[float, float]:
    """A second fix inside Casa Rosada, a few metres from the first."""
    return desplazar(*CASA_ROSADA, este_m=5)


def lectura(efectivo_id: int, lon: float, lat: float, segundos: int) -> dict:
    return {
        "id_cliente": str(uuid.uuid4()),
        "efectivo": efectivo_id,
        "lat": lat,
        "lon": lon,
        "registrada_en": (timezone.now() + timedelta(seconds=segundos)).isoformat(),
        "precision_m": 5,
    }


def test_el_comandante_ve_moverse_a_un_efectivo_y_reconoce_su_alerta_en_vivo(servidor, navegador):  # noqa: F811
    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    propios = Efectivo.objects.filter(unidad__codigo="CC1", ultima_posicion__isnull=False).count()
    # Everyone on duty has a position; the demo's officers "fuera de servicio" have no shift, so
    # none (their readings are not stored).
    fuera = Efectivo.objects.filter(unidad__codigo="CC1", estado=EstadoEfectivo.FUERA_SERVICIO)
    assert fuera.exists() and not fuera.filter(ultima_posicion__isnull=False).exists()
    assert propios == 80 - fuera.count()
    assert pagina.evaluate("window.gadMapa.capas.efectivos.size") == propios
    dibujados = pagina.evaluate("window.gadMapa.map.queryRenderedFeatures({layers: ['efectivos']}).length")
    assert dibujados > 40, dibujados  # rendered on the canvas, not just loaded
    assert pagina.evaluate("window.gadMapa.map.queryRenderedFeatures({layers: ['geocercas-relleno']}).length") > 0
    assert f"{propios} efectivos" in pagina.inner_text("#resumen")
    para_readme(pagina, "mapa")

    # A second commander's map (the admin's), to see the acknowledgement arrive there live.
    otra = abrir_mapa(navegador, servidor, "admin", "admin1234")

    efectivo = de_servicio().order_by("id").first()
    fuera = desplazar(*CASA_ROSADA, este_m=600)
    acceso = token(servidor, "comandante", "comandante1234")
    estado, cuerpo = post_json(
        f"{servidor}/api/v1/posiciones/",
        # Two readings inside: the demo's fences ask for two in a row (a GPS spike raises nothing).
        [lectura(efectivo.pk, *fuera, 1), lectura(efectivo.pk, *cerca(), 2), lectura(efectivo.pk, *CASA_ROSADA, 3)],
        acceso,
    )
    assert estado == 201, cuerpo

    # The marker moves without a reload...
    pagina.wait_for_function(
        f"""() => {{
            const f = window.gadMapa.capas.efectivos.get({efectivo.pk});
            return f && Math.abs(f.geometry.coordinates[0] - ({CASA_ROSADA[0]})) < 1e-6;
        }}""",
        timeout=10_000,
    )
    # ...and the alert pops up at the top of the panel, flashing.
    alerta = pagina.locator(".alerta.nueva", has_text="Casa Rosada").filter(has_text=efectivo.apellido)
    alerta.wait_for(timeout=10_000)
    # Where: no street extract here, so its coordinates (tests/mapa/test_lugares.py names places).
    assert re.fullmatch(r"📍 -34\.\d{5}, -58\.\d{5}", alerta.locator(".lugar").inner_text().strip())
    ids = [int(i) for i in pagina.locator(".alerta").evaluate_all("els => els.map(e => e.dataset.id)")]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert int(alerta.get_attribute("data-id")) in ids[:3]
    assert pagina.inner_text("#alertas-pendientes") != "0"
    captura(pagina, "mapa-alerta")

    db_alerta = Alerta.objects.get(efectivo=efectivo, geocerca__nombre="Casa Rosada")
    otra.locator(f".alerta[data-id='{db_alerta.pk}']").wait_for(timeout=10_000)

    alerta.locator("button.reconocer").click()
    pagina.locator(f".alerta.reconocida[data-id='{db_alerta.pk}']").wait_for(timeout=10_000)
    db_alerta.refresh_from_db()
    assert db_alerta.reconocida_en is not None
    assert db_alerta.reconocida_por.username == "comandante"
    # The other commander's panel shows it acknowledged, by whom, without a reload.
    otra.locator(f".alerta.reconocida[data-id='{db_alerta.pk}']").wait_for(timeout=10_000)
    assert "Reconocida por" in otra.locator(f".alerta[data-id='{db_alerta.pk}']").inner_text()
    captura(otra, "mapa-alerta-reconocida-por-otro")

    # The socket drops; a reading is stored meanwhile; on reconnecting (with `desde`) the page gets it.
    pagina.evaluate("() => { const c = window.gadMapa.conexion; c.cerrada = true; c.ws.close(); }")
    pagina.wait_for_function("() => window.gadMapa.conexion.ws.readyState === WebSocket.CLOSED")
    otro = de_servicio().order_by("id")[1]
    destino = desplazar(*CASA_ROSADA, norte_m=900)
    estado, cuerpo = post_json(f"{servidor}/api/v1/posiciones/", [lectura(otro.pk, *destino, 3)], acceso)
    assert estado == 201, cuerpo
    pagina.evaluate("() => { const c = window.gadMapa.conexion; c.cerrada = false; c.abrir(); }")
    pagina.wait_for_function(
        f"""() => {{
            const f = window.gadMapa.capas.efectivos.get({otro.pk});
            return f && Math.abs(f.geometry.coordinates[1] - ({destino[1]})) < 1e-6;
        }}""",
        timeout=10_000,
    )
    assert pagina.inner_text("#conexion") == "En vivo"
    assert pagina.errores == [] and otra.errores == []


def test_el_comandante_despacha_una_emergencia_con_un_clic_y_ve_el_recorrido(servidor, navegador):  # noqa: F811
    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    # The demo `efectivo` (CC1-0001) keeps a fixed post: the nearest available one to it.
    puesto = Efectivo.objects.select_related("usuario").get(usuario__username="efectivo")
    assert puesto.estado == EstadoEfectivo.DISPONIBLE
    punto = desplazar(puesto.ultima_posicion.x, puesto.ultima_posicion.y, norte_m=40)
    pagina.evaluate(f"window.gadMapa.map.jumpTo({{center: [{punto[0]}, {punto[1]}], zoom: 17}})")
    pagina.wait_for_timeout(300)
    x, y = en_pantalla(pagina, *desplazar(*punto, este_m=25))  # beside the marker, not on it
    pagina.mouse.click(x, y)
    pagina.get_by_role("button", name="Emergencia aquí").click()
    pagina.locator("#e-cercanos .cercanos li").first.wait_for(timeout=10_000)
    assert puesto.codigo_interno in pagina.locator("#e-cercanos .cercanos li").first.inner_text()
    pagina.fill("#e-descripcion", "Persona herida en la vía pública")
    pagina.get_by_role("button", name="Despachar emergencia").click()
    pagina.get_by_text("Emergencia despachada.").wait_for(timeout=10_000)
    captura(pagina, "mapa-emergencia")

    tarea = Tarea.objects.get(tipo=TipoTarea.EMERGENCIA, descripcion="Persona herida en la vía pública")
    assert tarea.prioridad == 5
    assert list(tarea.asignaciones.values_list("efectivo_id", flat=True)) == [puesto.pk]
    assert puesto.apellido in pagina.inner_text(".asignados")
    # The new task shows on the map through the socket.
    pagina.wait_for_function(f"() => window.gadMapa.capas.tareas.has({tarea.pk})", timeout=10_000)

    # Click the efectivo, a few pixels off its dot (a moving officer is a small target): details,
    # its new task, and its track on a time slider.
    x, y = en_pantalla(pagina, puesto.ultima_posicion.x, puesto.ultima_posicion.y)
    pagina.mouse.click(x + 6, y - 4)
    pagina.locator(".efectivo-nombre").wait_for(timeout=10_000)
    assert puesto.codigo_interno in pagina.inner_text(".efectivo-nombre")
    assert tarea.codigo in pagina.inner_text("#panel")
    pagina.get_by_role("button", name="Ver recorrido").click()
    # An officer's track is personal data: the reason is asked once, recorded with the read.
    dialogo = pagina.locator("dialog.dlg-motivo")
    dialogo.wait_for(timeout=10_000)
    dialogo.locator("select[name=motivo]").select_option("incidente")
    dialogo.locator("input[name=detalle]").fill("Emergencia despachada")
    dialogo.get_by_role("button", name="Continuar").click()
    pagina.locator("#r-control:not([hidden])").wait_for(timeout=10_000)
    leido = Registro.objects.filter(action=Registro.Action.ACCESS, object_pk=str(puesto.pk)).latest("timestamp")
    assert leido.additional_data["lectura"] == "recorrido"
    assert leido.additional_data["motivo"] == "incidente"
    assert leido.additional_data["motivo_detalle"] == "Emergencia despachada"
    # Asked once per officer per session: a second replay goes straight through, with the reason.
    lecturas_antes = Registro.objects.filter(action=Registro.Action.ACCESS, object_pk=str(puesto.pk)).count()
    pagina.get_by_role("button", name="Ver recorrido").click()
    for _ in range(100):
        if Registro.objects.filter(action=Registro.Action.ACCESS, object_pk=str(puesto.pk)).count() > lecturas_antes:
            break
        pagina.wait_for_timeout(100)
    assert dialogo.count() == 0
    otra = Registro.objects.filter(action=Registro.Action.ACCESS, object_pk=str(puesto.pk)).latest("timestamp")
    assert otra.pk != leido.pk and otra.additional_data["motivo"] == "incidente"
    lecturas = puesto.posiciones.filter(registrada_en__gte=timezone.now() - timedelta(hours=4)).count()
    assert f"({lecturas} lecturas)" in pagina.inner_text("#r-hora")
    if lecturas > 1:
        pagina.locator("#r-tiempo").fill("0")
        assert "1/" in pagina.inner_text("#r-hora")
    captura(pagina, "mapa-recorrido")
    assert pagina.errores == []


def test_un_efectivo_no_entra_al_mapa_sino_a_la_app_de_campo(servidor, navegador):  # noqa: F811
    pagina = ingresar(navegador, servidor, "efectivo", "efectivo1234", destino="/mapa/")
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    assert pagina.url.endswith("/campo/")
    assert pagina.locator("#mapa").count() == 0
    captura(pagina, "mapa-efectivo-a-campo")


@pytest.mark.lento  # the whole demo on a 4K screen: alone, its timings need the machine to itself
def test_el_mapa_se_lee_en_una_pantalla_de_pared(servidor, navegador):  # noqa: F811
    pagina = ingresar(navegador, servidor, "comandante.palermo", "comandante1234", viewport=(3840, 2160))
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    fuente = pagina.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert fuente >= 24  # scales with the screen instead of staying laptop-sized
    con_posicion = Efectivo.objects.filter(
        unidad__usuarios__username="comandante.palermo", ultima_posicion__isnull=False
    )
    assert pagina.evaluate("window.gadMapa.capas.efectivos.size") == con_posicion.count() > 60
    captura(pagina, "mapa-pared")


def test_un_sos_queda_fijo_en_el_mapa_hasta_que_el_mando_lo_resuelve(servidor, navegador):  # noqa: F811
    from seguridad.models import Sos

    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    efectivo = Efectivo.objects.get(usuario__username="efectivo")
    estado, sos = post_json(
        f"{servidor}/api/v1/sos/",
        {"lat": CASA_ROSADA[1], "lon": CASA_ROSADA[0]},
        token(servidor, "efectivo", "efectivo1234"),
    )
    assert estado == 201, sos
    item = pagina.locator(f"#sos .sos-item[data-id='{sos['id']}']")
    item.wait_for(timeout=10_000)
    assert efectivo.apellido in item.inner_text()
    assert "refuerzo: " in item.inner_text()  # backup dispatched, said on the banner
    captura(pagina, "mapa-sos")

    pagina.reload()  # pinned: a map opened later shows it too, with its backup and its emergency
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    item.wait_for(timeout=10_000)
    assert "refuerzo: " in item.inner_text()

    # Resolving asks what happens to its emergency: a false alarm cancels it and frees the backup.
    refuerzos = list(Asignacion.objects.filter(tarea_id=sos["tarea"]).values_list("efectivo_id", flat=True))
    assert refuerzos and set(Efectivo.objects.filter(pk__in=refuerzos).values_list("estado", flat=True)) == {"en_tarea"}
    item.locator(".resolver").click()
    item.locator("select[name=tarea]").select_option("cancelar")
    item.locator("input[name=nota]").fill("Falsa alarma")
    item.locator(".cierre button[type=submit]").click()
    item.wait_for(state="detached", timeout=10_000)
    assert pagina.locator("#sos").is_hidden()
    cerrado = Sos.objects.get(pk=sos["id"])
    assert (cerrado.estado, cerrado.nota, cerrado.resuelto_por.username) == ("resuelto", "Falsa alarma", "comandante")
    assert Tarea.objects.get(pk=sos["tarea"]).estado == "cancelada"
    assert set(Efectivo.objects.filter(pk__in=refuerzos).values_list("estado", flat=True)) == {"disponible"}


def test_un_efectivo_que_deja_de_reportar_aparece_sin_reporte_y_sale_al_volver(servidor, navegador):  # noqa: F811
    from seguridad.services import sin_reporte_revisar

    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    callado = Efectivo.objects.filter(unidad__codigo="CC1", estado=EstadoEfectivo.DISPONIBLE).first()
    Efectivo.objects.filter(pk=callado.pk).update(ultima_posicion_en=timezone.now() - timedelta(minutes=40))
    assert sin_reporte_revisar()[0] >= 1
    item = pagina.locator("#silencios .silencio", has_text=callado.apellido)
    item.wait_for(timeout=10_000)  # live, from the socket
    assert pagina.locator("#silencios-seccion").is_visible()
    captura(pagina, "mapa-sin-reporte")

    Efectivo.objects.filter(pk=callado.pk).update(ultima_posicion_en=timezone.now())
    assert sin_reporte_revisar()[1] >= 1
    item.wait_for(state="detached", timeout=10_000)


def test_una_alerta_se_repite_en_su_tarjeta_se_escala_se_atiende_y_se_resuelve_en_vivo(servidor, navegador):  # noqa: F811
    from geocercas.services import alertas_escalar

    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    otra = abrir_mapa(navegador, servidor, "admin", "admin1234")
    efectivo = de_servicio().order_by("id")[5]
    acceso = token(servidor, "comandante", "comandante1234")
    fuera = desplazar(*CASA_ROSADA, norte_m=-600)
    post_json(
        f"{servidor}/api/v1/posiciones/",
        [lectura(efectivo.pk, *fuera, 1), lectura(efectivo.pk, *CASA_ROSADA, 2), lectura(efectivo.pk, *cerca(), 3)],
        acceso,
    )
    alerta = Alerta.objects.get(efectivo=efectivo, geocerca__nombre="Casa Rosada")
    tarjeta = pagina.locator(f".alerta[data-id='{alerta.pk}']")
    tarjeta.wait_for(timeout=10_000)
    de_esta = pagina.locator(".alerta", has_text="Casa Rosada").filter(has_text=efectivo.apellido)

    # Out and in again: the same card counts it, no new card.
    post_json(
        f"{servidor}/api/v1/posiciones/",
        [
            lectura(efectivo.pk, *fuera, 4),
            lectura(efectivo.pk, *desplazar(*fuera, este_m=5), 5),
            lectura(efectivo.pk, *CASA_ROSADA, 6),
            lectura(efectivo.pk, *cerca(), 7),
        ],
        acceso,
    )
    pagina.wait_for_function(
        f"() => document.querySelector(\".alerta[data-id='{alerta.pk}'] .repeticiones\").textContent === '×2'",
        timeout=10_000,
    )
    assert de_esta.count() == 1
    alerta.refresh_from_db()
    assert alerta.repeticiones == 2

    # Left pending too long: marked escalated on every commander's map.
    assert alerta.pk in alertas_escalar(ahora=timezone.now() + timedelta(hours=1))
    pagina.locator(f".alerta.escalada[data-id='{alerta.pk}']").wait_for(timeout=10_000)
    otra.locator(f".alerta.escalada[data-id='{alerta.pk}']").wait_for(timeout=10_000)
    captura(pagina, "mapa-alerta-escalada")

    tarjeta.locator("button.atender").click()
    pagina.wait_for_function(
        f"() => document.querySelector(\".alerta[data-id='{alerta.pk}']\").dataset.estado === 'en_atencion'",
        timeout=10_000,
    )
    otra.locator(f".alerta[data-estado='en_atencion'][data-id='{alerta.pk}']").wait_for(timeout=10_000)
    assert "En atención por" in otra.locator(f".alerta[data-id='{alerta.pk}']").inner_text()
    assert tarjeta.locator("button.atender").is_hidden() and tarjeta.locator("button.reconocer").is_hidden()

    pagina.once("dialog", lambda d: d.accept("Se retiró de la zona"))
    tarjeta.locator("button.resolver").click()
    # Under the pointer it stays, struck through; it goes when the pointer leaves.
    pagina.locator(f".alerta[data-estado='resuelta'][data-id='{alerta.pk}']").wait_for(timeout=10_000)
    pagina.mouse.move(5, 400)
    tarjeta.wait_for(state="detached", timeout=10_000)
    otra.locator(f".alerta[data-id='{alerta.pk}']").wait_for(state="detached", timeout=10_000)
    alerta.refresh_from_db()
    assert alerta.estado == "resuelta"
    assert alerta.notas.last().nota == "Se retiró de la zona"


def test_la_lista_de_alertas_no_se_mueve_bajo_el_puntero_y_se_reconocen_todas(servidor, navegador):  # noqa: F811
    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    pendientes = Alerta.objects.filter(efectivo__unidad__codigo="CC1", estado="pendiente").count()
    assert int(pagina.inner_text("#alertas-pendientes")) == pendientes  # the server's count

    if not pagina.locator("#alertas .alerta").count():  # a card to hover over
        efectivo = de_servicio().order_by("-id").first()
        post_json(
            f"{servidor}/api/v1/posiciones/",
            [
                lectura(efectivo.pk, *desplazar(*CASA_ROSADA, este_m=600), 1),
                lectura(efectivo.pk, *CASA_ROSADA, 2),
                lectura(efectivo.pk, *cerca(), 3),
            ],
            token(servidor, "comandante", "comandante1234"),
        )
        pagina.locator("#alertas .alerta").first.wait_for(timeout=10_000)
    primera = pagina.locator("#alertas .alerta").first
    primera_id = primera.get_attribute("data-id")
    primera.hover()

    efectivo = de_servicio().order_by("id")[3]
    estado, _ = post_json(
        f"{servidor}/api/v1/posiciones/",
        [
            lectura(efectivo.pk, *desplazar(*CASA_ROSADA, norte_m=700), 3),
            lectura(efectivo.pk, *CASA_ROSADA, 4),
            lectura(efectivo.pk, *cerca(), 5),
        ],
        token(servidor, "comandante", "comandante1234"),
    )
    assert estado == 201
    pagina.locator("#alertas-nuevas:not([hidden])").wait_for(timeout=10_000)
    assert "alerta(s) nueva(s): mostrar" in pagina.inner_text("#alertas-nuevas")
    assert pagina.locator("#alertas .alerta").first.get_attribute("data-id") == primera_id  # did not move
    pendientes = Alerta.objects.filter(efectivo__unidad__codigo="CC1", estado="pendiente").count()
    pagina.wait_for_function(f"() => document.querySelector('#alertas-pendientes').textContent === '{pendientes}'")

    pagina.mouse.move(5, 400)  # over the layers panel: the waiting alert comes in on top
    tarjeta = pagina.locator("#alertas .alerta", has_text=efectivo.apellido).first
    tarjeta.wait_for(timeout=10_000)
    assert pagina.locator("#alertas-nuevas").is_hidden()
    assert f"{efectivo.codigo_interno} · {efectivo.apellido}" in tarjeta.inner_text()  # the card names the code

    pagina.once("dialog", lambda d: d.accept())
    pagina.click("#alertas-todas")
    pagina.wait_for_function("() => document.querySelector('#alertas-pendientes').textContent === '0'", timeout=10_000)
    assert not Alerta.objects.filter(efectivo__unidad__codigo="CC1", estado="pendiente").exists()
    assert pagina.locator("#alertas .alerta:not(.reconocida)").count() == 0


def test_el_comandante_reasigna_libera_y_cancela_desde_el_panel_de_la_tarea(servidor, navegador):  # noqa: F811
    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    acceso = token(servidor, "comandante", "comandante1234")
    estado, tarea = post_json(
        f"{servidor}/api/v1/tareas/", {"titulo": "Vallado", "lat": CASA_ROSADA[1], "lon": CASA_ROSADA[0]}, acceso
    )
    assert estado == 201, tarea
    estado, tarea = post_json(f"{servidor}/api/v1/tareas/{tarea['id']}/asignar/", {"cercanos": 2}, acceso)
    assert estado == 200, tarea
    primero, segundo = (a["efectivo"] for a in tarea["asignaciones"])
    # The queue beside the map lists it, waiting on answers, with its timers.
    pagina.locator("#tareas-seccion summary").click()
    fila = pagina.locator(f"#tareas-cola li[data-tarea='{tarea['id']}']")
    fila.wait_for(timeout=10_000)
    assert "sin aceptar" in fila.inner_text() and "creada hace" in fila.inner_text()
    fila.click()  # flies to it and opens its panel
    panel = pagina.locator("#panel-contenido")
    panel.locator("text=responde antes de").first.wait_for(timeout=10_000)  # the acceptance deadline shows
    assert "2 de 2" in panel.inner_text()
    panel.locator(f"[data-reasignar='{primero}']").click()
    panel.locator("#t-elegir li[data-id]").first.wait_for(timeout=10_000)
    nuevo = int(panel.locator("#t-elegir li[data-id]").first.get_attribute("data-id"))
    panel.locator("#t-elegir li[data-id]").first.click()
    pagina.locator("#panel .resultado", has_text="Reasignada").wait_for(timeout=10_000)
    vivas = set(
        Asignacion.objects.filter(tarea_id=tarea["id"], estado="pendiente").values_list("efectivo_id", flat=True)
    )
    assert vivas == {segundo, nuevo}
    captura(pagina, "mapa-tarea-acciones")
    pagina.once("dialog", lambda d: d.accept("Se resolvió sin intervención"))
    panel.locator("#t-cancelar").click()
    pagina.locator("#panel .resultado", has_text="cancelada").wait_for(timeout=10_000)
    assert Tarea.objects.get(pk=tarea["id"]).estado == "cancelada"
    assert set(Efectivo.objects.filter(pk__in=[primero, segundo, nuevo]).values_list("estado", flat=True)) == {
        "disponible"
    }

    # The status board: searched by code, the row has the state and its time; a click selects it.
    quien = Efectivo.objects.get(pk=segundo)
    pagina.locator("#tablero-seccion summary").click()
    pagina.fill("#tablero-buscar", quien.codigo_interno)
    fila = pagina.locator(f"#tablero-filas tr[data-efectivo='{quien.pk}']")
    fila.wait_for(timeout=10_000)
    assert pagina.locator("#tablero-filas tr").count() == 1
    assert "Disponible" in fila.inner_text() and "min" in fila.inner_text()
    captura(pagina, "mapa-tablero")
    fila.click()
    pagina.locator(".efectivo-nombre", has_text=quien.codigo_interno).wait_for(timeout=10_000)
    assert pagina.errores == []


def test_el_mando_silencia_una_geocerca_desde_una_alerta_y_ordena_por_severidad(servidor, navegador):  # noqa: F811
    """The 🔕 on a card silences its fence with a reason, every map is told; "Por severidad" puts
    critical alerts first."""
    from geocercas.models import Geocerca

    pagina = abrir_mapa(navegador, servidor, "admin", "admin1234")
    otra = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    efectivo = de_servicio().order_by("id")[7]
    estado, _ = post_json(
        f"{servidor}/api/v1/posiciones/",
        [
            lectura(efectivo.pk, *desplazar(*CASA_ROSADA, este_m=600), 1),
            lectura(efectivo.pk, *CASA_ROSADA, 2),
            lectura(efectivo.pk, *cerca(), 3),
        ],
        token(servidor, "admin", "admin1234"),
    )
    assert estado == 201
    tarjeta = pagina.locator(".alerta", has_text="Casa Rosada").filter(has_text=efectivo.apellido)
    tarjeta.wait_for(timeout=10_000)
    pagina.mouse.move(5, 400)
    tarjeta.locator(".silenciar").click()
    tarjeta.locator("select[name=minutos]").select_option("30")
    tarjeta.locator("input[name=motivo]").fill("Acto oficial")
    tarjeta.locator("form.silencio button[type=submit]").click()
    for mapa in (pagina, otra):  # the other commander is told who, until when and why
        mapa.wait_for_function(
            "() => !document.querySelector('#aviso').hidden && "
            "document.querySelector('#aviso').textContent.includes('Acto oficial')",
            timeout=10_000,
        )
        assert "«Casa Rosada» silenciada hasta las" in mapa.inner_text("#aviso")
    casa = Geocerca.objects.get(nombre="Casa Rosada")
    assert casa.silencio_motivo == "Acto oficial" and casa.silenciada_hasta is not None
    captura(pagina, "mapa-silencio")

    pagina.select_option("#alertas-orden", "severidad")
    rangos = {"critica": 3, "advertencia": 2, "info": 1}
    vistas = pagina.locator("#alertas .alerta").evaluate_all(
        "els => els.map(e => [e.dataset.severidad, Number(e.dataset.id)])"
    )
    claves = [(rangos[sev], i) for sev, i in vistas]
    assert len(claves) >= 1 and claves == sorted(claves, reverse=True)


def _caja(pagina, selector: str) -> dict:
    caja = pagina.locator(selector).bounding_box()
    assert caja is not None, selector
    return caja


def _se_tocan(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_la_consola_se_usa_en_un_telefono(servidor, navegador):  # noqa: F811
    """390x844: the header fits and its links are one tap away behind the menu; the layers card
    starts folded; alerts live in a bottom sheet that rises for a panel; an SOS banner sits on the
    map clear of the sheet; nothing scrolls sideways."""
    pagina = ingresar(navegador, servidor, "comandante", "comandante1234", viewport=(390, 844))
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=10_000)
    assert pagina.evaluate("document.documentElement.scrollWidth") <= 390
    barra = _caja(pagina, "header.barra")
    assert barra["height"] <= 60 and barra["x"] + barra["width"] <= 390
    buscar = _caja(pagina, "#buscar")
    assert buscar["width"] >= 100 and buscar["x"] + buscar["width"] <= 390  # the search box fits too
    # The links: hidden until the menu opens, then every one of them on screen.
    assert pagina.locator("#menu").is_hidden()
    pagina.click("#menu-abrir")
    for nombre in ("Reportes", "Salir", "Mi Telegram", "✉ Mensaje"):
        caja = _caja(pagina, f"#menu >> text={nombre}")
        assert caja["x"] >= 0 and caja["x"] + caja["width"] <= 390 and caja["y"] + caja["height"] <= 844, nombre
    captura(pagina, "mapa-telefono-menu")
    pagina.click("header .marca")  # a tap elsewhere folds it
    assert pagina.locator("#menu").is_hidden()
    # The map fills the screen; the layers card is a small folded tab in its corner.
    mapa = _caja(pagina, "#mapa")
    assert mapa["width"] == 390 and mapa["height"] >= 844 - barra["height"] - 2
    capas = _caja(pagina, "#capas")
    assert not pagina.locator("#capas").evaluate("(d) => d.open")
    assert capas["width"] * capas["height"] <= 0.05 * mapa["width"] * mapa["height"]
    # The alerts: a bottom sheet on the lower part of the screen.
    hoja = _caja(pagina, "#lateral")
    assert hoja["y"] + hoja["height"] == pytest.approx(844, abs=1) and hoja["height"] <= 0.45 * 844
    assert pagina.locator("#alertas-pendientes").is_visible()
    # An SOS: its banner on the map, not over the alerts.
    estado, sos = post_json(
        f"{servidor}/api/v1/sos/",
        {"lat": CASA_ROSADA[1], "lon": CASA_ROSADA[0]},
        token(servidor, "efectivo", "efectivo1234"),
    )
    assert estado == 201, sos
    pagina.locator(f"#sos .sos-item[data-id='{sos['id']}']").wait_for(timeout=10_000)
    banner = _caja(pagina, "#sos")
    assert banner["x"] >= 0 and banner["x"] + banner["width"] <= 390
    assert not _se_tocan(banner, _caja(pagina, "#lateral")), (banner, hoja)
    assert not _se_tocan(banner, _caja(pagina, "#capas"))
    if pagina.locator("#aviso-calles").is_visible():  # no streets installed here: said, clear of both
        aviso = _caja(pagina, "#aviso-calles")
        assert not _se_tocan(aviso, banner) and not _se_tocan(aviso, _caja(pagina, "#lateral"))
    captura(pagina, "mapa-telefono")
    # The handle raises the sheet; opening a panel raises it too.
    pagina.click("#hoja-asa")
    pagina.wait_for_function("() => document.getElementById('lateral').getBoundingClientRect().height > 0.8 * 844")
    pagina.click("#hoja-asa")
    pagina.wait_for_function("() => document.getElementById('lateral').getBoundingClientRect().height < 0.45 * 844")
    efectivo = Efectivo.objects.get(usuario__username="efectivo")
    pagina.evaluate(f"window.gadMapa.acciones.abrirEfectivo({efectivo.pk})")
    pagina.wait_for_function("() => document.getElementById('lateral').getBoundingClientRect().height > 0.8 * 844")
    panel = _caja(pagina, "#panel")
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 390
    assert pagina.locator("#alertas").is_hidden()  # the panel has the sheet to itself
    assert pagina.evaluate("document.documentElement.scrollWidth") <= 390
    captura(pagina, "mapa-telefono-panel")
    pagina.click("#panel-cerrar")
    pagina.wait_for_function("() => document.getElementById('lateral').getBoundingClientRect().height < 0.45 * 844")
    assert pagina.locator("#alertas-pendientes").is_visible()
    assert pagina.errores == []


def test_la_busqueda_encuentra_un_efectivo_por_codigo_y_lo_abre(servidor, navegador):  # noqa: F811
    pagina = abrir_mapa(navegador, servidor, "comandante", "comandante1234")
    e = de_servicio().exclude(ultima_posicion=None).order_by("codigo_interno").first()
    pagina.fill("#buscar", e.codigo_interno.lower())
    opcion = pagina.locator("#buscar-resultados li[data-tipo='efectivo']").first
    opcion.wait_for(timeout=10_000)
    assert e.apellido in opcion.inner_text()
    pagina.keyboard.press("Enter")
    pagina.wait_for_function(
        f"() => document.getElementById('panel-contenido').innerText.includes({e.codigo_interno!r})", timeout=10_000
    )
    assert pagina.locator("#buscar-resultados").is_hidden()
    # The map flew there: the efectivo is at the middle of the screen.
    pagina.wait_for_function("() => !window.gadMapa.map.isMoving()", timeout=10_000)
    centro = pagina.evaluate("window.gadMapa.map.getCenter().toArray()")
    assert centro == pytest.approx([e.ultima_posicion.x, e.ultima_posicion.y], abs=1e-3)
    # A name nobody has: said so, not an empty box.
    pagina.fill("#buscar", "zzzqqq")
    pagina.locator("#buscar-resultados .vacio").wait_for(timeout=10_000)
    assert pagina.errores == []
