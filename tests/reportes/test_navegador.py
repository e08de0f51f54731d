"""The unidad report in headless Chromium: its text reads against its background all the way
down, not only on the first screen."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.navegador import captura, ingresar, navegador  # noqa: F401 (fixture)
from tests.vivo import daphne

# The contrast ratio of WCAG 2.x, from two computed colours ("rgb(r, g, b)").
CONTRASTE = """([texto, fondo]) => {
    const canales = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const luz = (c) => {
        const [r, g, b] = canales(c).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [a, b] = [luz(texto), luz(fondo)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""

# What is really behind an element: the first ancestor with an opaque background, else the
# canvas (html's background, or body's when html has none).
FONDO = """(el) => {
    for (let n = el; n; n = n.parentElement) {
        const c = getComputedStyle(n).backgroundColor;
        if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") {
            const caja = n.getBoundingClientRect();
            const r = el.getBoundingClientRect();
            if (n === document.documentElement || (caja.top <= r.top && caja.bottom >= r.bottom)) return c;
        }
    }
    return getComputedStyle(document.documentElement).backgroundColor;
}"""


@pytest.fixture
def servidor(transactional_db):
    call_command("cargar_demo", verbosity=0)
    with daphne() as url:
        yield url


@pytest.mark.parametrize("viewport", [(390, 844), (1366, 768)], ids=["telefono", "escritorio"])
def test_el_reporte_se_lee_hasta_el_pie(servidor, navegador, viewport):  # noqa: F811
    pagina = ingresar(
        navegador, servidor, "comandante.palermo", "comandante1234", destino="/reportes/", viewport=viewport
    )
    pagina.goto(servidor + "/reportes/?periodo=semana")
    pie = pagina.locator("footer.pie")
    pie.scroll_into_view_if_needed()
    alto = pagina.evaluate("() => document.documentElement.scrollHeight")
    assert alto > 2 * viewport[1], alto  # the report runs well below the first screen
    assert pagina.evaluate("document.documentElement.scrollWidth") <= viewport[0]  # nothing scrolls sideways
    captura(pagina, f"reporte-pie-{viewport[0]}")
    for selector in ("footer.pie", "#t-efectivos tbody tr:last-child td", "h2"):
        el = pagina.locator(selector).last
        el.scroll_into_view_if_needed()
        texto = el.evaluate("(e) => getComputedStyle(e).color")
        fondo = el.evaluate(FONDO)
        razon = pagina.evaluate(CONTRASTE, [texto, fondo])
        assert razon >= 4.5, (selector, texto, fondo, razon)
    # Each table as a CSV file, from the page.
    with pagina.expect_download() as descarga:
        pagina.click("#csv-efectivos")
    assert descarga.value.suggested_filename.endswith("-efectivos.csv")
    assert pagina.errores == []
