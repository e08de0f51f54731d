"""The admin's geometry editor in headless Chromium: it draws on the offline base map (land,
streets and names from the installed archive), and a shape drawn there becomes a geocerca."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from geocercas.models import Geocerca
from tests.mapa import osm_prueba
from tests.mapa.test_navegador_base import para_readme
from tests.navegador import ingresar, navegador  # noqa: F401 (fixture)
from tests.vivo import daphne


@pytest.fixture
def servidor(transactional_db, settings, tmp_path):
    call_command("cargar_demo", verbosity=0)
    settings.MAPA_BASE_DIR = str(tmp_path / "base")
    archivo = tmp_path / "extracto.pmtiles"
    osm_prueba.construir_pmtiles(archivo)
    call_command("base_instalar", str(archivo), stdout=io.StringIO())
    with daphne(MAPA_BASE_DIR=settings.MAPA_BASE_DIR) as url:
        yield url


def test_el_admin_dibuja_una_geocerca_sobre_el_mapa_base(servidor, navegador):  # noqa: F811
    pagina = ingresar(navegador, servidor, "admin", "admin1234", viewport=(1366, 900))
    teselas = []
    pagina.on("response", lambda r: teselas.append((r.url, r.status)) if "/tiles/" in r.url else None)
    pagina.goto(servidor + "/admin/geocercas/geocerca/add/")
    mapa = pagina.locator("#id_geom_map")
    mapa.wait_for()
    # Center the editor on Plaza de Mayo at street zoom, where the archive has streets.
    pagina.evaluate(
        f"""() => new Promise((listo) => {{
            const m = geodjango_geom.map;
            m.getView().setCenter(ol.proj.fromLonLat([{osm_prueba.PLAZA_DE_MAYO[0]}, {osm_prueba.PLAZA_DE_MAYO[1]}]));
            m.getView().setZoom(16);
            m.once("rendercomplete", listo);
        }})"""
    )
    assert any("/tiles/base/" in u and s == 200 for u, s in teselas), teselas
    assert any("/tiles/osm/" in u and s == 200 for u, s in teselas), teselas
    # The streets layer really drew features there.
    dibujadas = pagina.evaluate(
        """() => geodjango_geom.map.getLayers().getArray().find((c) => c.get("gadCapa") === "osm")
                  .getFeaturesInExtent(geodjango_geom.map.getView().calculateExtent()).length"""
    )
    assert dibujadas > 0

    caja = mapa.bounding_box()
    x0, y0 = caja["x"] + caja["width"] * 0.35, caja["y"] + caja["height"] * 0.35
    lado = caja["width"] * 0.25
    for dx, dy in [(0, 0), (lado, 0), (lado, lado), (0, lado)]:
        pagina.mouse.click(x0 + dx, y0 + dy)
        pagina.wait_for_timeout(150)
    pagina.mouse.click(x0, y0)  # closing on the first vertex finishes the polygon
    # The widget writes the finished polygon into its field: wait for that, not for a fixed time
    # (on a loaded machine the last click's drawend can come later than 300 ms).
    pagina.wait_for_function("() => document.getElementById('id_geom').value.includes('Polygon')", timeout=10_000)
    para_readme(pagina, "admin-geocerca")
    pagina.fill("#id_nombre", "Dibujada en el admin")
    pagina.select_option("#id_tipo", "restringida")
    pagina.click("input[name=_save]")
    pagina.wait_for_load_state()
    g = Geocerca.objects.get(nombre="Dibujada en el admin")
    assert g.geom.num_coords == 5  # four corners, closed
    x, y = g.geom.centroid.coords
    assert abs(x - osm_prueba.PLAZA_DE_MAYO[0]) < 0.01 and abs(y - osm_prueba.PLAZA_DE_MAYO[1]) < 0.01
    assert pagina.errores == []


@pytest.mark.parametrize("viewport", [(390, 844), (1366, 768)], ids=["telefono", "escritorio"])
def test_abrir_la_ficha_de_un_efectivo_pide_el_motivo_en_un_formulario_que_se_lee(servidor, navegador, viewport):  # noqa: F811
    from auditoria.models import Registro
    from efectivos.models import Efectivo

    efectivo = Efectivo.objects.order_by("pk").first()
    pagina = ingresar(navegador, servidor, "admin", "admin1234", viewport=viewport)
    pagina.goto(f"{servidor}/admin/efectivos/efectivo/{efectivo.pk}/change/")
    assert "/admin/motivo/" in pagina.url
    assert pagina.locator("text=La ficha de un efectivo contiene sus datos personales").is_visible()
    # Readable at this width: nothing wider than the screen, the choice and the button in view.
    assert pagina.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pagina.select_option("#motivo", "incidente")
    pagina.fill("#motivo_detalle", "Parte 12")
    pagina.locator("input[type=submit]").click()
    pagina.wait_for_load_state()
    assert pagina.url.endswith(f"/admin/efectivos/efectivo/{efectivo.pk}/change/")
    assert pagina.locator("#id_apellido").input_value() == efectivo.apellido
    leido = Registro.objects.filter(action=Registro.Action.ACCESS, object_id=efectivo.pk).latest("timestamp")
    assert (leido.additional_data["motivo"], leido.additional_data["motivo_detalle"]) == ("incidente", "Parte 12")
    assert pagina.errores == []
