"""The field app (/campo/) in headless Chromium at a phone's size (390×844), against a real daphne
with the demo data: sign in, the shell offline, readings queued offline, a live assignment, SOS by
press-and-hold, a message and its receipt on the commander's map, a missed check-in escalating to
an SOS with backup. Screenshots land in .run/artefactos/ (and docs/ with GAD_CAPTURAS=1)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from efectivos.models import Efectivo, Posicion
from mensajes.models import Entrega
from seguridad.models import ControlBienestar, FuenteSos, Sos
from tareas.models import Asignacion
from tests.mapa.test_navegador_base import para_readme
from tests.navegador import captura, navegador  # noqa: F401 (fixture)
from tests.vivo import TIEMPO_COMPRIMIDO, daphne, post_json, token

TELEFONO = {"width": 390, "height": 844}
PLAZA_DE_MAYO = {"latitude": -34.6083, "longitude": -58.3722, "accuracy": 8}


@pytest.fixture
def demo(transactional_db):
    call_command("cargar_demo", verbosity=0)


@pytest.fixture
def servidor(demo):
    with daphne(**TIEMPO_COMPRIMIDO) as url:
        yield url


def abrir_campo(browser, url: str, usuario: str = "efectivo", clave: str = "efectivo1234", **contexto):
    """A phone: 390×844, touch, Spanish, geolocation allowed; signed in through the real form,
    starting from the site's root (an officer is sent to /campo/)."""
    ctx = browser.new_context(
        viewport=TELEFONO,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="es-AR",
        geolocation=PLAZA_DE_MAYO,
        permissions=["geolocation"],
        **contexto,
    )
    pagina = ctx.new_page()
    pagina.errores = []
    pagina.on("pageerror", lambda e: pagina.errores.append(f"{e} {e.stack}"))
    pagina.goto(url + "/")
    pagina.fill("#id_username", usuario)
    pagina.fill("#id_password", clave)
    pagina.click("button[type=submit]")
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    assert pagina.url.endswith("/campo/")
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=10_000)
    return pagina


def abrir_mapa(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="es-AR")
    pagina = ctx.new_page()
    pagina.errores = []
    pagina.on("pageerror", lambda e: pagina.errores.append(str(e)))
    pagina.goto(url + "/mapa/")
    pagina.fill("#id_username", "comandante")
    pagina.fill("#id_password", "comandante1234")
    pagina.click("button[type=submit]")
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=10_000)
    return pagina


def fuera_del_bucle(funcion, *args, **kwargs):
    """Run a service from the test the way a Celery worker would: in a thread with no event loop
    (Playwright's runs in this one, and the channel layer's fast path needs its own)."""
    with ThreadPoolExecutor(1) as hilo:
        return hilo.submit(funcion, *args, **kwargs).result()


def _yo() -> Efectivo:
    return Efectivo.objects.get(usuario__username="efectivo")


def test_el_shell_se_instala_abre_sin_senal_y_las_lecturas_en_cola_llegan_una_vez(servidor, navegador):  # noqa: F811
    pagina = abrir_campo(navegador, servidor)
    assert pagina.locator("#estados button[aria-pressed='true']").count() == 1
    assert pagina.evaluate("document.documentElement.scrollWidth") <= TELEFONO["width"]  # no sideways scroll
    para_readme(pagina, "campo")
    # The service worker took over; a reload is served from its cache and measured.
    pagina.evaluate("navigator.serviceWorker.ready.then(() => true)")
    pagina.reload()
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    carga_ms = pagina.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    assert carga_ms <= 1000, carga_ms
    print(f"\nshell cargado en {carga_ms:.0f} ms")

    # No signal: the app still opens, says so, and queues what the phone reports.
    pagina.context.set_offline(True)
    pagina.reload()
    pagina.wait_for_selector("#conexion[data-estado='sin_senal']", timeout=15_000)
    assert "GAD Campo" in pagina.inner_text("header")
    yo = _yo()
    antes = Posicion.objects.filter(efectivo=yo).count()
    pagina.check("#compartir")
    for i in range(1, 4):
        pagina.context.set_geolocation({**PLAZA_DE_MAYO, "latitude": PLAZA_DE_MAYO["latitude"] + i * 0.0005})
        time.sleep(0.3)
    pagina.wait_for_function(
        "() => document.getElementById('ubicacion-estado').textContent.includes('en cola')", timeout=10_000
    )
    en_cola = pagina.evaluate("import('/static/js/campo/cola.js').then((c) => c.cuantos('lectura'))")
    assert en_cola >= 3
    captura(pagina, "campo-sin-senal")
    assert Posicion.objects.filter(efectivo=yo).count() == antes

    pagina.context.set_geolocation(PLAZA_DE_MAYO)  # back where it started: no new reading until moved
    pagina.context.set_offline(False)
    pagina.evaluate("window.dispatchEvent(new Event('online'))")
    pagina.wait_for_function(
        "() => !document.getElementById('ubicacion-estado').textContent.includes('en cola')", timeout=15_000
    )
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=15_000)
    llegadas = Posicion.objects.filter(efectivo=yo).count() - antes
    assert en_cola <= llegadas <= en_cola + 1  # each queued reading once (plus at most the fix on return)
    assert (
        Posicion.objects.filter(efectivo=yo).values("id_cliente").distinct().count()
        == Posicion.objects.filter(efectivo=yo).count()
    )
    assert pagina.errores == []


def test_una_asignacion_llega_en_vivo_se_acepta_y_se_llega(servidor, navegador):  # noqa: F811
    pagina = abrir_campo(navegador, servidor)
    pagina.mouse.click(5, 300)  # the first tap unlocks sound
    yo = _yo()
    acceso = token(servidor, "comandante", "comandante1234")
    estado, tarea = post_json(
        f"{servidor}/api/v1/tareas/",
        {"titulo": "Control de acceso <b>norte</b>", "lat": -34.6060, "lon": -58.3720, "prioridad": 4},
        acceso,
    )
    assert estado == 201, tarea
    estado, cuerpo = post_json(f"{servidor}/api/v1/tareas/{tarea['id']}/asignar/", {"efectivos": [yo.pk]}, acceso)
    assert estado == 200, cuerpo
    tarjeta = pagina.locator(f".c-tarea[data-id='{tarea['id']}']")
    tarjeta.wait_for(timeout=10_000)  # live, from the socket
    assert "Control de acceso <b>norte</b>" in tarjeta.inner_text()  # escaped, shown as written
    assert pagina.evaluate("window.gadCampo.llamadas") >= 1  # sound and vibration
    assert re.search(r"\d (m|km) al (N|NE|E|SE|S|SO|O|NO)$", tarjeta.locator(".c-rumbo").inner_text())
    assert pagina.locator("#como-llegar").get_attribute("href").startswith("geo:-34.606,-58.372")
    pagina.locator("#mini-mapa canvas").wait_for(timeout=10_000)
    captura(pagina, "campo-tarea-nueva")
    tarjeta.locator("button[data-accion='aceptar']").click()
    tarjeta.locator("button[data-accion='llegada']").wait_for(timeout=10_000)
    asignacion = Asignacion.objects.get(tarea_id=tarea["id"], efectivo=yo)
    assert asignacion.estado == "aceptada"
    pagina.locator("button[data-accion='llegada']").click()
    pagina.wait_for_function(
        f"() => !document.querySelector(\".c-tarea[data-id='{tarea['id']}'] button[data-accion='llegada']\")",
        timeout=10_000,
    )
    asignacion.refresh_from_db()
    assert asignacion.llegada_en is not None
    para_readme(pagina, "campo-tarea")
    assert pagina.errores == []


def test_sos_manteniendo_presionado_sin_senal_llega_una_vez_con_refuerzo(servidor, navegador):  # noqa: F811
    pagina = abrir_campo(navegador, servidor)
    yo = _yo()
    boton = pagina.locator("#sos").bounding_box()
    x, y = boton["x"] + boton["width"] / 2, boton["y"] + boton["height"] / 2
    # A brush: no SOS.
    pagina.mouse.move(x, y)
    pagina.mouse.down()
    time.sleep(0.6)
    pagina.mouse.up()
    time.sleep(0.5)
    assert Sos.objects.filter(efectivo=yo).count() == 0

    pagina.check("#compartir")  # the SOS carries the phone's position
    pagina.wait_for_function("() => window.gadCampo.estado.posicion !== null", timeout=10_000)
    pagina.context.set_offline(True)
    pagina.mouse.move(x, y)
    pagina.mouse.down()
    time.sleep(2.4)
    pagina.mouse.up()
    pagina.wait_for_selector("#sos-estado:has-text('en espera de señal')", timeout=5_000)
    assert Sos.objects.filter(efectivo=yo).count() == 0
    pagina.context.set_offline(False)
    pagina.evaluate("window.dispatchEvent(new Event('online'))")
    pagina.evaluate("window.dispatchEvent(new Event('online'))")  # twice: the queue is sent once
    pagina.wait_for_selector("#sos-estado:has-text('Refuerzo en camino')", timeout=15_000)
    sos = Sos.objects.get(efectivo=yo)
    assert (sos.fuente, sos.estado) == (FuenteSos.CAMPO, "activo")
    assert sos.punto is not None and abs(sos.punto.y - PLAZA_DE_MAYO["latitude"]) < 0.01
    refuerzos = list(Asignacion.objects.filter(tarea=sos.tarea).select_related("efectivo"))
    assert refuerzos and all(r.efectivo.apellido in pagina.inner_text("#sos-estado") for r in refuerzos)
    para_readme(pagina, "campo-sos")
    assert pagina.errores == []


def test_un_mensaje_leido_muestra_su_recibo_en_el_mapa_del_comandante(servidor, navegador):  # noqa: F811
    mapa = abrir_mapa(navegador, servidor)
    campo = abrir_campo(navegador, servidor)
    yo = _yo()
    mapa.evaluate(f"window.gadMapa.acciones.abrirEfectivo({yo.pk})")
    mapa.locator("#c-escribir").click()
    texto = "Diríjanse a <b>Plaza de Mayo</b> & esperen"
    mapa.fill("#m-texto", texto)
    mapa.check("#m-urgente")
    mapa.click("#m-form button[type=submit]")
    mapa.locator("#m-recibos").wait_for(timeout=10_000)
    # Urgent: the field app asks for an explicit acknowledgement, in a dialog, with the text as written.
    dialogo = campo.locator("#urgente")
    dialogo.wait_for(state="visible", timeout=10_000)
    assert texto in dialogo.inner_text()
    captura(campo, "campo-mensaje-urgente")
    # Delivered to the phone: the sender's map says so, live.
    mapa.wait_for_function(
        "() => document.getElementById('m-recibos').textContent.includes('entregado')", timeout=10_000
    )
    campo.click("#urgente-confirmar")
    mapa.wait_for_function(
        "() => document.getElementById('m-recibos').textContent.includes('confirmado')", timeout=10_000
    )
    entrega = Entrega.objects.get(efectivo=yo)
    assert entrega.entregado_en and entrega.leido_en and entrega.confirmado_en
    assert texto in mapa.inner_text(".mensaje-texto")  # escaped on the map too
    # A reply reaches the map.
    item = campo.locator(".c-mensaje").first
    item.locator("[data-responder]").click()
    item.locator("textarea").fill("Entendido, <i>voy</i>")
    item.locator("[data-enviar]").click()
    mapa.wait_for_function(
        "() => document.getElementById('m-respuestas').textContent.includes('Entendido, <i>voy</i>')", timeout=10_000
    )
    para_readme(mapa, "mapa-mensaje-recibos")
    para_readme(campo, "campo-mensajes")
    assert mapa.errores == [] and campo.errores == []


def test_un_control_de_bienestar_sin_respuesta_escala_a_sos_con_refuerzo(servidor, navegador, settings):  # noqa: F811
    from seguridad.services import bienestar_revisar

    settings.BIENESTAR_FACTOR_NOCHE_SOLO = 1
    mapa = abrir_mapa(navegador, servidor)
    campo = abrir_campo(navegador, servidor)
    yo = _yo()
    acceso = token(servidor, "comandante", "comandante1234")
    estado, cuerpo = post_json(f"{servidor}/api/v1/bienestar/", {"efectivo": yo.pk, "intervalo_min": 20}, acceso)
    assert estado == 201, cuerpo
    mapa.locator(f"#bienestar-tablero li[data-efectivo='{yo.pk}']").wait_for(timeout=10_000)

    # Asked now: the phone shows it; "Estoy bien" answers it.
    ahora = timezone.now()
    assert fuera_del_bucle(bienestar_revisar, ahora=ahora + timedelta(minutes=21))["pedidos"] == 1
    campo.locator("#bienestar").wait_for(state="visible", timeout=10_000)
    captura(campo, "campo-bienestar")
    campo.click("#estoy-bien")
    campo.locator("#bienestar").wait_for(state="hidden", timeout=10_000)
    control = ControlBienestar.objects.get(efectivo=yo)
    for _ in range(50):
        control.refresh_from_db()
        if control.respuestas:
            break
        time.sleep(0.1)
    assert (control.respuestas, control.ultima_via) == (1, "campo")

    # Next time nobody answers: a miss warns command, the second raises the SOS with backup.
    t = control.proximo_en + timedelta(seconds=1)
    assert fuera_del_bucle(bienestar_revisar, ahora=t)["pedidos"] == 1
    assert fuera_del_bucle(bienestar_revisar, ahora=t + timedelta(minutes=6))["fallos"] == 1
    mapa.locator(f"#bienestar-tablero li.control-fallido[data-efectivo='{yo.pk}']").wait_for(timeout=10_000)
    assert "no respondió" in mapa.inner_text("#aviso")
    resultado = fuera_del_bucle(bienestar_revisar, ahora=t + timedelta(minutes=12))
    assert (resultado["fallos"], resultado["sos"]) == (1, 1)
    sos = Sos.objects.get(efectivo=yo)
    assert sos.fuente == FuenteSos.BIENESTAR
    assert Asignacion.objects.filter(tarea=sos.tarea).count() >= 1  # backup dispatched to the last position
    campo.wait_for_selector("#sos-estado:has-text('Refuerzo en camino')", timeout=10_000)
    mapa.locator(f"#sos .sos-item[data-id='{sos.pk}']").wait_for(timeout=10_000)
    assert "×2" in mapa.inner_text(f"#bienestar-tablero li[data-efectivo='{yo.pk}']")
    para_readme(mapa, "mapa-bienestar")
    assert mapa.errores == [] and campo.errores == []


def test_comandantes_van_al_mapa_y_una_sesion_cerrada_vuelve_al_ingreso(servidor, navegador):  # noqa: F811
    mapa = abrir_mapa(navegador, servidor)
    mapa.goto(servidor + "/campo/")
    assert mapa.url.endswith("/mapa/")
    campo = abrir_campo(navegador, servidor)
    # Signed out elsewhere (another tab): the app goes to the sign-in form, not a broken screen.
    campo.context.clear_cookies()
    campo.reload()
    campo.wait_for_selector("#id_username", timeout=10_000)
    assert "/login/" in campo.url


def test_el_efectivo_ve_en_la_app_quien_consulto_sus_datos_y_por_que(servidor, navegador):  # noqa: F811
    yo = _yo()
    acceso = token(servidor, "comandante", "comandante1234")
    consulta = f"{servidor}/api/v1/efectivos/{yo.pk}/recorrido/?horas=2&motivo=judicial&motivo_detalle=Oficio%2077"
    req = urllib.request.Request(consulta, headers={"Authorization": f"Bearer {acceso}"})
    with urllib.request.urlopen(req, timeout=15) as r:
        assert r.status == 200
    pagina = abrir_campo(navegador, servidor)
    pagina.locator("#accesos-detalle summary").click()
    fila = pagina.locator("#accesos li[data-acceso]")
    fila.first.wait_for(timeout=10_000)
    texto = fila.first.inner_text()
    assert "recorrido" in texto and "Requerimiento judicial o fiscal" in texto and "Oficio 77" in texto, texto
    # The download links are the officer's own data, no reason asked.
    with pagina.expect_download() as descarga:
        pagina.get_by_role("link", name="JSON").click()
    ruta = descarga.value.path()
    datos = json.loads(Path(ruta).read_text(encoding="utf-8"))
    assert datos["efectivo"]["codigo"] == yo.codigo_interno and datos["accesos"][0]["motivo"] == "judicial"
    assert pagina.evaluate("document.documentElement.scrollWidth") <= TELEFONO["width"]
    assert pagina.errores == []
