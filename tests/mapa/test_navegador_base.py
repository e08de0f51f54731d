"""The map a commander reads: base map with streets and labels, panels that fit both common screen
sizes, every time in the agency's zone. Headless Chromium against a real daphne with the demo
data and a small OpenStreetMap archive the test builds itself.

With GAD_CAPTURAS=1 (`make capturas`) it also writes the README's screenshots into docs/."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from auditoria.models import Registro
from tests.mapa import osm_prueba
from tests.navegador import captura, ingresar, navegador  # noqa: F401 (fixture)
from tests.vivo import TIEMPO_COMPRIMIDO, daphne

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def servidor(transactional_db, settings, tmp_path):
    call_command("cargar_demo", verbosity=0)
    settings.MAPA_BASE_DIR = str(tmp_path / "base")
    archivo = tmp_path / "extracto.pmtiles"
    osm_prueba.construir_pmtiles(archivo)
    call_command("base_instalar", str(archivo), stdout=io.StringIO())
    with daphne(MAPA_BASE_DIR=settings.MAPA_BASE_DIR, TELEGRAM_BOT_USERNAME="gad_demo_bot", **TIEMPO_COMPRIMIDO) as url:
        yield url


def para_readme(pagina, nombre: str) -> None:
    ruta = captura(pagina, nombre)
    if os.environ.get("GAD_CAPTURAS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(ruta, DOCS / f"{nombre}.png")


def abrir(browser, url, viewport):
    pagina = ingresar(browser, url, "comandante", "comandante1234", viewport=viewport)
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    return pagina


def ir_a(pagina, lon: float, lat: float, zoom: float) -> None:
    pagina.evaluate(
        f"""() => new Promise((listo) => {{
            const m = window.gadMapa.map;
            m.jumpTo({{ center: [{lon}, {lat}], zoom: {zoom} }});
            m.once("idle", listo);
        }})"""
    )


def rotulos_en_pantalla(pagina, capa: str, campo: str) -> list[str]:
    """The text of every label MapLibre placed on screen in a symbol layer (repeats included)."""
    return pagina.evaluate(
        f"""() => window.gadMapa.map.queryRenderedFeatures({{ layers: ["{capa}"] }})
              .map((f) => f.properties["{campo}"])"""
    )


def rotulos(pagina, capa: str, campo: str) -> set[str]:
    return set(rotulos_en_pantalla(pagina, capa, campo))


@pytest.mark.parametrize("viewport", [(1366, 768), (1920, 1080)])
def test_el_mapa_base_tiene_costa_calles_y_nombres(servidor, navegador, viewport):  # noqa: F811
    pagina = abrir(navegador, servidor, viewport)
    # City zoom: the river and the shore from Natural Earth.
    ir_a(pagina, -58.2, -34.65, 9)
    assert pagina.evaluate("window.gadMapa.map.queryRenderedFeatures({layers: ['tierra']}).length") > 0
    # Street zoom over Plaza de Mayo: the archive's streets and names, the fences' names, codes.
    ir_a(pagina, *osm_prueba.PLAZA_DE_MAYO, 16.3)
    assert osm_prueba.CALLE in rotulos(pagina, "osm-calles-nombre", "name")
    assert pagina.evaluate("window.gadMapa.map.queryRenderedFeatures({layers: ['osm-calles-principales']}).length") > 0
    nombres = rotulos_en_pantalla(pagina, "geocercas-nombre", "nombre")
    assert {"Casa Rosada", "Plaza de Mayo"} <= set(nombres)
    assert len(nombres) == len(set(nombres)), nombres  # once each, whatever tiles a fence crosses
    assert pagina.errores == []
    para_readme(pagina, f"mapa-calles-{viewport[0]}")
    # Efectivo codes at street zoom (not below: at z13 a unidad would be a wall of text).
    lon, lat, codigo = pagina.evaluate(
        """() => { const f = [...window.gadMapa.capas.efectivos.values()][0];
                   return [...f.geometry.coordinates, f.properties.codigo]; }"""
    )
    ir_a(pagina, lon, lat, 16)
    assert codigo in rotulos(pagina, "efectivos-codigo", "codigo")
    ir_a(pagina, lon, lat, 13)
    assert rotulos(pagina, "efectivos-codigo", "codigo") == set()


def test_el_formulario_de_tarea_entra_en_pantalla_y_la_capas_se_pliegan(servidor, navegador):  # noqa: F811
    pagina = abrir(navegador, servidor, (1366, 768))
    ir_a(pagina, *osm_prueba.PLAZA_DE_MAYO, 15)
    # Collapsing the layers card leaves a small header, and opening it restores the legend.
    alto = pagina.locator("#capas").bounding_box()["height"]
    pagina.click("#capas summary")
    plegado = pagina.locator("#capas").bounding_box()["height"]
    assert plegado < 60 < alto, (plegado, alto)
    assert pagina.locator("#leyenda-efectivos").is_hidden()
    pagina.click("#capas summary")
    assert pagina.locator("#leyenda-efectivos").is_visible()

    caja = pagina.locator("#mapa canvas").bounding_box()
    pagina.mouse.click(caja["x"] + caja["width"] * 0.6, caja["y"] + caja["height"] * 0.7)
    pagina.click("button[data-accion='tarea']")
    pagina.wait_for_selector("#t-cercanos ul.cercanos li", timeout=10_000)
    boton = pagina.locator("#form-tarea button[type=submit]")
    b = boton.bounding_box()
    assert b["y"] + b["height"] <= 768, b  # visible without scrolling
    assert boton.evaluate(
        "(el) => { const r = el.getBoundingClientRect(); "
        "return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el; }"
    )
    casilla = pagina.locator("#t-cercanos input[type=checkbox]").first.bounding_box()
    assert casilla["width"] < 30, casilla
    for fila in pagina.locator("#t-cercanos li").all():
        distancia = fila.locator(".distancia").bounding_box()
        quien = fila.locator(".quien").bounding_box()
        assert distancia["height"] < 1.8 * 13 * 1.3, distancia  # one line: "543 m" does not wrap
        assert quien["width"] > 120, quien
    # The selected point is ringed by two rings drawn on the map.
    assert pagina.evaluate("window.gadMapa.map.queryRenderedFeatures({layers: ['seleccion-halo']}).length") == 1
    para_readme(pagina, "mapa-nueva-tarea")


def test_la_densidad_tiene_leyenda_y_los_horarios_son_de_buenos_aires(servidor, navegador):  # noqa: F811
    # A fence that applies only tomorrow: drawn hatched, "fuera de horario · desde <tomorrow> 00:00".
    from django.utils import timezone as tz

    from geocercas.models import Geocerca

    manana = tz.localtime() + timedelta(days=1)
    g = Geocerca.objects.create(
        nombre="Feria de mañana",
        tipo="restringida",
        geom=Geocerca.objects.get(nombre="Plaza de Mayo").geom,
        horario_dias=[manana.isoweekday()],
    )
    contexto_zona = {"timezone_id": "Asia/Tokyo"}  # a browser far from the agency
    contexto = navegador.new_context(viewport={"width": 1366, "height": 768}, locale="es-AR", **contexto_zona)
    pagina = contexto.new_page()
    pagina.goto(servidor + "/")
    pagina.fill("#id_username", "comandante")
    pagina.fill("#id_password", "comandante1234")
    pagina.click("button[type=submit]")
    pagina.wait_for_selector("body[data-listo='1']", timeout=20_000)
    pagina.wait_for_function(f"document.body.dataset.fueraDeHorario === '{g.pk}'", timeout=10_000)
    assert "Fuera de horario" in pagina.inner_text("#leyenda-geocercas")
    vigencias = pagina.evaluate("fetch('/mapa/datos/vigencias/').then((r) => r.json())")
    assert vigencias["fuera"] == [{"id": g.pk, "desde": vigencias["fuera"][0]["desde"]}]
    assert vigencias["fuera"][0]["desde"].startswith(f"{manana.date().isoformat()}T00:00:00")
    assert pagina.locator("#leyenda-densidad").is_hidden()
    pagina.check("input[data-capa='densidad']")
    assert pagina.locator("#leyenda-densidad").is_visible()
    assert "Pocas lecturas" in pagina.inner_text("#leyenda-densidad")
    # 20:21:07 UTC is 17:21:07 in Buenos Aires: 24 h, the agency's zone, not Tokyo's 05:21.
    texto = pagina.evaluate(
        """async () => { const api = await import("/static/js/mapa/api.js");
                         return [api.hora("2026-12-02T20:21:07Z", {segundos: true}), api.fechaHora("2026-12-02T20:21:07Z")]; }"""
    )
    assert texto == ["17:21:07", "02/12/2026, 17:21:07"]
    # ...and what a commander types is read in Buenos Aires too.
    leido = pagina.evaluate(
        """async () => { const api = await import("/static/js/mapa/api.js");
                         return [new Date(api.leerFechaHora("02/12/2026 17:21")).toISOString(),
                                 api.paraEscribir(Date.parse("2026-12-02T20:21:00Z")), Number.isNaN(api.leerFechaHora("31/13/2026 10:00"))]; }"""
    )
    assert leido == ["2026-12-02T20:21:00.000Z", "02/12/2026 17:21", True]  # an impossible date is refused
    contexto.close()


def _inundar(parar: threading.Event, publicados: list[int], por_lote: int = 200, por_segundo: int = 4000) -> None:
    """Publish `por_segundo` events a second to every commander. Bounded: unbounded, this thread
    reaches 20,000-30,000 a second on a quiet machine, and how long the page then takes to drain
    its backlog measures the machine's load of the moment rather than the reconnection."""
    from django.db import connection

    from realtime.services import Publicacion, publish_many

    inicio, enviados = time.monotonic(), 0
    try:
        while not parar.is_set():
            adelanto = inicio + enviados / por_segundo - time.monotonic()
            if adelanto > 0:
                time.sleep(adelanto)
            eventos = publish_many(
                Publicacion(
                    "efectivo.estado",
                    {"efectivo_id": -1, "estado": "disponible", "unidad_id": None},
                    ["rol.comandante", "rol.administrador"],
                )
                for _ in range(por_lote)
            )
            publicados.append(eventos[-1].id)
            enviados += por_lote
    finally:
        connection.close()


@pytest.fixture
def servidor_replay_corto(transactional_db):
    call_command("cargar_demo", verbosity=0)
    with daphne(WS_REPLAY_MAX="100") as url:
        yield url


def test_reconectar_a_miles_de_eventos_por_segundo_vuelve_en_vivo(servidor_replay_corto, navegador):  # noqa: F811
    pagina = abrir(navegador, servidor_replay_corto, (1366, 768))
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=10_000)
    sockets = []
    pagina.on("websocket", lambda ws: sockets.append(ws.url))
    parar, publicados = threading.Event(), []
    hilo = threading.Thread(target=_inundar, args=(parar, publicados), daemon=True)
    hilo.start()
    try:
        time.sleep(1)
        # The connection drops; by the time it is back, far more than WS_REPLAY_MAX events passed.
        pagina.evaluate("window.gadMapa.conexion.ws.close()")
        limite = time.monotonic() + 15
        while not sockets and time.monotonic() < limite:
            pagina.wait_for_timeout(100)
        assert sockets, "the page did not reconnect"
        # Polled on a timer, not on animation frames: the flood keeps the page's main thread busy.
        pagina.wait_for_function(
            "() => window.gadMapa.conexion.resyncs >= 1 && document.getElementById('conexion').dataset.estado === 'en_vivo'",
            polling=200,
            timeout=20_000,
        )
        # ...and stays live while the flood goes on: one reconnection, no reload-and-reconnect loop.
        time.sleep(3)
        assert pagina.get_attribute("#conexion", "data-estado") == "en_vivo"
        assert len(sockets) == 1, sockets
        assert pagina.evaluate("window.gadMapa.conexion.resyncs") == 1  # the gap was too large to replay
        inicio, lotes_inicio = time.monotonic(), len(publicados)
        time.sleep(1)
        tasa = (len(publicados) - lotes_inicio) * 200 / (time.monotonic() - inicio)
    finally:
        parar.set()
        hilo.join(10)
    assert tasa > 2000, tasa  # the flood really was thousands of events a second
    # Every event after the snapshot arrived: the page's cursor reaches the last one published.
    pagina.wait_for_function(f"() => window.gadMapa.conexion.ultimo >= {publicados[-1]}", polling=200, timeout=15_000)
    assert pagina.errores == []


def test_el_comandante_vincula_el_telegram_de_un_efectivo_desde_su_panel(servidor, navegador):  # noqa: F811
    from efectivos.models import Efectivo
    from telegram_bot import services as telegram_services

    pagina = abrir(navegador, servidor, (1366, 768))
    efectivo = Efectivo.objects.get(usuario__username="efectivo")
    pagina.evaluate(f"window.gadMapa.acciones.abrirEfectivo({efectivo.pk})")
    pagina.wait_for_selector("#tg-vincular")
    assert "Sin vincular." in pagina.inner_text("#tg")
    pagina.click("#tg-vincular")
    enlace = pagina.locator("#tg .codigo-tg a")
    enlace.wait_for(timeout=10_000)
    href = enlace.get_attribute("href")
    assert href.startswith("https://t.me/gad_demo_bot?start=")
    qr = pagina.locator("#tg .qr svg").bounding_box()
    assert qr["width"] >= 100 and abs(qr["width"] - qr["height"]) < 2  # large enough to scan
    texto = pagina.inner_text("#tg")
    assert "vence a las" in texto and "Bot de la institución: @gad_demo_bot" in texto
    # This server runs no bot (no TELEGRAM_BOT_TOKEN): the commander is told, not left to wonder.
    assert "no tiene bot de Telegram" in pagina.inner_text("#tg .aviso-tg")
    para_readme(pagina, "mapa-vincular-telegram")
    # The code on screen is the real one: the efectivo's phone opening the link links them.
    usuario = telegram_services.cuenta_vincular(codigo=href.split("start=")[1], telegram_id=990011)
    assert usuario == efectivo.usuario
    pagina.evaluate(f"window.gadMapa.acciones.abrirEfectivo({efectivo.pk})")
    pagina.wait_for_function("() => document.getElementById('tg')?.innerText.includes('Vinculado.')")


def test_el_comandante_da_de_alta_un_telefono_con_su_qr_lo_ve_reportar_y_lo_da_de_baja(servidor, navegador):  # noqa: F811
    from urllib.parse import parse_qs, urlencode, urlsplit

    import httpx

    from efectivos.models import Dispositivo, Efectivo, Posicion

    pagina = abrir(navegador, servidor, (1366, 768))
    efectivo = Efectivo.objects.get(usuario__username="efectivo")
    pagina.evaluate(f"window.gadMapa.acciones.abrirEfectivo({efectivo.pk})")
    pagina.wait_for_selector("#eq-alta")
    pagina.fill("#eq-etiqueta", "Moto G · inventario 17")
    pagina.click("#eq-alta")
    enlace = pagina.locator("#eq-nuevo a.enlace-config")
    enlace.wait_for(timeout=10_000)
    qr = pagina.locator("#eq-nuevo .qr svg").bounding_box()
    assert qr["width"] >= 100 and abs(qr["width"] - qr["height"]) < 2
    para_readme(pagina, "mapa-alta-equipo")
    # The link is what Traccar Client applies: this server's ingest URL, and the device id.
    partes = urlsplit(enlace.get_attribute("href"))
    assert f"{partes.scheme}://{partes.netloc}{partes.path}" == f"{servidor}/ingreso/osmand/"
    secreto = parse_qs(partes.query)["id"][0]
    # The phone reports with it; the panel shows it in contact, with its battery.
    lon, lat = osm_prueba.PLAZA_DE_MAYO
    forma = {
        "id": secreto,
        "lat": lat,
        "lon": lon,
        "timestamp": int(time.time()) - 2,
        "batt": "14.0",
        "charge": "false",
    }
    r = httpx.post(
        f"{servidor}/ingreso/osmand/",
        content=urlencode(forma),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert Posicion.objects.filter(efectivo=efectivo, fuente="traccar").count() == 1
    # The live position brings the phone's 14 %: a low-battery dot on their marker.
    pagina.wait_for_function(
        f"() => window.gadMapa.map.queryRenderedFeatures({{layers: ['efectivos-bateria']}}).some(f => f.id === {efectivo.pk})"
    )
    assert "Batería del teléfono < 20 %" in pagina.inner_text("#leyenda-efectivos")
    pagina.evaluate(f"window.gadMapa.acciones.abrirEfectivo({efectivo.pk})")
    pagina.wait_for_function("() => document.getElementById('equipos')?.innerText.includes('en contacto')")
    texto = pagina.inner_text("#equipos")
    assert "Moto G · inventario 17" in texto and "14 %" in texto
    assert pagina.locator("#equipos .bateria-baja").count() == 1
    # Revoked from the panel: the phone is cut off.
    pagina.once("dialog", lambda d: d.accept())
    pagina.click("[data-revocar]")
    pagina.wait_for_function("() => document.getElementById('equipos')?.innerText.includes('dado de baja')")
    assert Dispositivo.objects.get(efectivo=efectivo).revocado_en is not None
    forma["timestamp"] = int(time.time())
    r = httpx.post(
        f"{servidor}/ingreso/osmand/",
        content=urlencode(forma),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403


def test_quien_estaba_donde_en_un_momento_de_la_ventana(servidor, navegador):  # noqa: F811
    import uuid
    from datetime import timedelta

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from efectivos.models import Efectivo, Posicion
    from tests.factories import desplazar

    temprano, tarde = Efectivo.objects.filter(unidad__codigo="CC1").order_by("id")[:2]
    ahora = timezone.now()
    Posicion.objects.filter(efectivo__in=[temprano, tarde]).delete()
    filas = []
    for e, minutos in ((temprano, range(50, 40, -1)), (tarde, range(10, 0, -1))):  # minutes before now
        for i, m in enumerate(minutos):
            filas.append(
                Posicion(
                    efectivo=e,
                    punto=Point(*desplazar(*osm_prueba.PLAZA_DE_MAYO, este_m=30 * i), srid=4326),
                    registrada_en=ahora - timedelta(minutes=m),
                    recibida_en=ahora,
                    fuente="api",
                    id_cliente=uuid.uuid4(),
                )
            )
    Posicion.objects.bulk_create(filas)
    pagina = abrir(navegador, servidor, (1366, 768))
    ir_a(pagina, *osm_prueba.PLAZA_DE_MAYO, 15)
    pagina.click("#quien-abrir")
    pagina.click("#form-quien button[type=submit]")  # the last hour, the commander's unidad
    # "Who was where" reads people's tracks: it asks why; "Otro" needs an explanation.
    dialogo = pagina.locator("dialog.dlg-motivo")
    dialogo.locator("select[name=motivo]").select_option("otro")
    dialogo.get_by_role("button", name="Continuar").click()
    assert "Explique" in dialogo.locator(".error").inner_text()
    dialogo.locator("input[name=detalle]").fill("Denuncia de un vecino")
    dialogo.get_by_role("button", name="Continuar").click()
    pagina.wait_for_selector("#q-control:not([hidden])", timeout=10_000)
    leido = Registro.objects.filter(action=Registro.Action.ACCESS).latest("timestamp")
    assert leido.additional_data["lectura"] == "quién estaba dónde"
    assert leido.additional_data["motivo"] == "otro"
    assert leido.additional_data["motivo_detalle"] == "Denuncia de un vecino"
    total = pagina.evaluate("window.gadMapa.quien.datos.efectivos.length")
    assert total >= 2
    # A quarter into the hour only the early one had reported; at the end both.
    pagina.evaluate("window.gadMapa.quien.mostrar(0.25)")
    ids = pagina.evaluate(
        """() => new Promise((listo) => window.gadMapa.map.once("idle", () =>
              listo(window.gadMapa.map.queryRenderedFeatures({layers: ["quien-puntos"]}).map((f) => f.properties.id))))"""
    )
    assert temprano.pk in ids and tarde.pk not in ids, ids
    pagina.evaluate("window.gadMapa.quien.mostrar(1)")
    assert pagina.evaluate("window.gadMapa.quien.visibles") >= 2
    assert "efectivos" in pagina.inner_text("#q-hora")
    para_readme(pagina, "mapa-quien-estaba-donde")


def test_el_reporte_de_la_unidad_se_imprime_con_sus_graficos(servidor, navegador):  # noqa: F811
    pagina = abrir(navegador, servidor, (1366, 768))
    pagina.click("a[href='/reportes/']")
    pagina.wait_for_selector("main.reporte h1")
    assert "Reporte de CC1" in pagina.inner_text("h1")
    graficos = pagina.locator(".grafico svg")
    assert graficos.count() == 4 and all(g.bounding_box()["width"] > 300 for g in graficos.all())
    pagina.emulate_media(media="print")
    assert pagina.locator(".barra-reporte").is_hidden()  # the controls do not print
    pagina.emulate_media(media="screen")
    para_readme(pagina, "reporte-unidad")
    assert pagina.errores == []


def test_un_sos_en_una_esquina_se_nombra_y_la_esquina_se_busca(servidor, navegador):  # noqa: F811
    """Reverse geocoding on the SOS banner (not coordinates), and a street intersection found by
    the search box, flown to."""
    from tests.vivo import post_json, token

    esquina = (-58.37390, -34.60865)  # Avenida de Mayo meets Bolívar in the test's extract
    pagina = abrir(navegador, servidor, (1366, 768))
    pagina.wait_for_selector("#conexion[data-estado='en_vivo']", timeout=10_000)
    estado, sos = post_json(
        f"{servidor}/api/v1/sos/", {"lat": esquina[1], "lon": esquina[0]}, token(servidor, "efectivo", "efectivo1234")
    )
    assert estado == 201, sos
    item = pagina.locator(f"#sos .sos-item[data-id='{sos['id']}']")
    item.wait_for(timeout=10_000)
    texto = item.inner_text()
    assert osm_prueba.CALLE in texto and "Bolívar" in texto and "-34.60" not in texto, texto
    captura(pagina, "mapa-sos-esquina")
    pagina.fill("#buscar", "avenida de mayo y bolivar")
    opcion = pagina.locator("#buscar-resultados li[data-tipo='esquina']").first
    opcion.wait_for(timeout=10_000)
    assert f"{osm_prueba.CALLE} y Bolívar" in opcion.inner_text()
    opcion.click()
    pagina.wait_for_function("() => !window.gadMapa.map.isMoving()", timeout=10_000)
    centro = pagina.evaluate("window.gadMapa.map.getCenter().toArray()")
    assert centro == pytest.approx(list(esquina), abs=5e-4)
    assert pagina.errores == []
