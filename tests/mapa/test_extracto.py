"""`base_instalar URL`: only the agency's area of a remote PMTiles archive, fetched with HTTP range
requests from a local server serving an archive the test builds; an interrupted download resumes
where it stopped; what a server or an archive can get wrong is a clear error."""

from __future__ import annotations

import gzip
import http.server
import re
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pmtiles.reader import MmapSource, Reader

from mapa import base, extracto, tiles
from tests.mapa import osm_prueba

pytestmark = pytest.mark.django_db

AREA = (-58.3800, -34.6150, -58.3650, -34.6000)  # around Plaza de Mayo, inside the archive's


class Servidor:
    """Serves files from a directory with HTTP range requests (206), counting them; it can fail
    after a number of requests (a dropped link), or ignore ranges (a server that cannot serve them)."""

    def __init__(self, raiz: Path) -> None:
        self.raiz, self.pedidos, self.fallar_despues, self.sin_rangos = raiz, 0, None, False
        servidor = self

        class Manejador(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                servidor.pedidos += 1
                if servidor.fallar_despues is not None and servidor.pedidos > servidor.fallar_despues:
                    self.send_error(503)
                    return
                datos = (servidor.raiz / self.path.lstrip("/")).read_bytes()
                rango = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
                if rango is None or servidor.sin_rangos:
                    self.send_response(200)
                    cuerpo = datos
                else:
                    desde, hasta = int(rango[1]), min(int(rango[2]), len(datos) - 1)
                    cuerpo = datos[desde : hasta + 1]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {desde}-{hasta}/{len(datos)}")
                self.send_header("Content-Length", str(len(cuerpo)))
                self.send_header("ETag", '"v1"')
                self.end_headers()
                self.wfile.write(cuerpo)

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Manejador)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"


@pytest.fixture
def remoto(settings, tmp_path, monkeypatch):
    settings.MAPA_BASE_DIR = str(tmp_path / "base")
    publicado = tmp_path / "publicado"
    publicado.mkdir()
    teselas = osm_prueba.construir_pmtiles(publicado / "planeta.pmtiles")
    (publicado / "no-es.pmtiles").write_bytes(b"<html>no</html>" * 100)
    # Small blocks, no merging: the small archive then takes several requests, as a city would.
    monkeypatch.setattr(extracto, "BLOQUE_MAX", 2048)
    monkeypatch.setattr(extracto, "SOBRANTE_MAX", 0)
    servidor = Servidor(publicado)
    yield servidor, teselas
    servidor.http.shutdown()


def test_extrae_solo_el_area_y_retoma_una_descarga_cortada(remoto, capsys):
    servidor, teselas = remoto
    url = f"{servidor.url}/planeta.pmtiles"
    argumentos = ("base_instalar", url, "--bbox=" + ",".join(map(str, AREA)), "--zoom-max=15")
    servidor.fallar_despues = 4  # the header, then three blocks
    with pytest.raises(CommandError, match=r"Vuelva a correr el comando"):
        call_command(*argumentos)
    parcial = Path(base.archivo_osm()).with_name("descarga.pmtiles.parcial")
    guardados = len(list(parcial.glob("*.bin")))
    assert guardados == 3
    assert base.osm_info() is None  # nothing installed from half a download

    servidor.fallar_despues, servidor.pedidos = None, 0
    capsys.readouterr()
    call_command(*argumentos)
    salida = capsys.readouterr().out
    assert "Se retoma la descarga: 3 de" in salida
    bloques = int(re.search(r"(\d+) de (\d+) bloques bajados ahora", salida)[2])
    bajados = int(re.search(r"(\d+) de (\d+) bloques bajados ahora", salida)[1])
    assert bajados == bloques - 3 and bloques > 3
    assert servidor.pedidos == 1 + bajados  # the header once, and only the missing blocks
    assert not parcial.exists()

    # Installed: exactly the area's tiles up to zoom 15, byte for byte the archive's.
    info = base.osm_info()
    assert (info.minzoom, info.maxzoom) == (12, 15)
    esperadas = {t for t in tiles.tiles_de_zona(bbox=AREA, zooms=range(12, 16)) if t in teselas}
    with open(base.archivo_osm(), "rb") as f:
        lector = Reader(MmapSource(f))
        for z, x, y in esperadas:
            assert gzip.decompress(lector.get(z, x, y)) == teselas[(z, x, y)]
        fuera = [t for t in teselas if t not in esperadas]
        assert fuera and all(lector.get(*t) is None for t in fuera)
    assert info.bounds == pytest.approx(AREA, abs=1e-6)


def test_lo_que_puede_fallar_se_explica(remoto):
    servidor, _ = remoto
    with pytest.raises(CommandError, match="no es un archivo PMTiles"):
        call_command("base_instalar", f"{servidor.url}/no-es.pmtiles", "--bbox=" + ",".join(map(str, AREA)))
    servidor.sin_rangos = True
    with pytest.raises(CommandError, match="rangos HTTP"):
        call_command("base_instalar", f"{servidor.url}/planeta.pmtiles", "--bbox=" + ",".join(map(str, AREA)))
    servidor.sin_rangos = False
    with pytest.raises(CommandError, match="--bbox"):
        call_command("base_instalar", f"{servidor.url}/planeta.pmtiles", "--bbox=1,2,3")
    with pytest.raises(CommandError, match="no tiene teselas en esa área"):
        call_command("base_instalar", f"{servidor.url}/planeta.pmtiles", "--bbox=10,10,11,11")
    with pytest.raises(CommandError, match="jurisdicción"):
        call_command("base_instalar", f"{servidor.url}/planeta.pmtiles")  # no unidad has one here
    assert base.osm_info() is None


def test_sin_calles_el_mapa_y_el_admin_dicen_como_instalarlas(remoto, admin, comandante_a):
    from django.test import Client

    def html(usuario, ruta: str) -> str:
        c = Client()
        c.force_login(usuario)
        return c.get(ruta).content.decode()

    assert "manage.py base_instalar URL" in html(admin, "/mapa/")
    assert "pida al administrador" in html(comandante_a, "/mapa/")
    assert 'id="aviso-calles"' in html(admin, "/admin/")
    assert 'id="aviso-calles"' in html(admin, "/admin/geocercas/geocerca/add/")  # where fences are drawn
    servidor, _ = remoto
    call_command("base_instalar", f"{servidor.url}/planeta.pmtiles", "--bbox=" + ",".join(map(str, AREA)))
    assert 'id="aviso-calles"' not in html(admin, "/mapa/")
    assert 'id="aviso-calles"' not in html(admin, "/admin/")
