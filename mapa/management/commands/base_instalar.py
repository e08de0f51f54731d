"""`manage.py base_instalar ARCHIVO|URL`: install the agency's OpenStreetMap extract (PMTiles v3 or
MBTiles, vector tiles in the Protomaps basemap schema) as the map's streets and labels. Given the
URL of a PMTiles archive (a public OpenStreetMap basemap build), only the agency's area is fetched,
with HTTP range requests (mapa.extracto): the unidades' jurisdictions, or `--bbox`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gad_project.exceptions import EntradaInvalida
from mapa import base, services


def _bbox(texto: str) -> tuple[float, float, float, float]:
    try:
        valores = tuple(float(v) for v in texto.split(","))
    except ValueError:
        valores = ()
    if len(valores) != 4 or not (-180 <= valores[0] < valores[2] <= 180 and -85 <= valores[1] < valores[3] <= 85):
        raise CommandError(f"--bbox: lon_min,lat_min,lon_max,lat_max en grados (se leyó {texto!r}).")
    return valores


def _area_de_las_unidades() -> tuple[float, float, float, float]:
    from django.contrib.gis.db.models import Extent

    from efectivos.models import Unidad

    extension = Unidad.objects.filter(jurisdiccion__isnull=False).aggregate(e=Extent("jurisdiccion"))["e"]
    if extension is None:
        raise CommandError("Ninguna unidad tiene jurisdicción cargada: indique el área con --bbox.")
    margen = 0.01  # about a kilometre around the jurisdictions
    lon0, lat0, lon1, lat1 = extension
    return (lon0 - margen, lat0 - margen, lon1 + margen, lat1 + margen)


class Command(BaseCommand):
    help = (
        "Instala un extracto de OpenStreetMap (PMTiles o MBTiles) como mapa base con calles y nombres; "
        "con una URL de un PMTiles, descarga sólo el área de la institución."
    )

    def add_arguments(self, parser):
        parser.add_argument("archivo", help="Un archivo PMTiles/MBTiles, o la URL (http/https) de un PMTiles.")
        parser.add_argument(
            "--bbox", type=_bbox, help="Con una URL: lon_min,lat_min,lon_max,lat_max (por omisión, las jurisdicciones)."
        )
        parser.add_argument(
            "--zoom-max", type=int, help="Con una URL: el zoom más alto a descargar (por omisión, el del archivo)."
        )

    def handle(self, *args, archivo: str, bbox=None, zoom_max=None, **options):
        try:
            if archivo.startswith(("http://", "https://")):
                from mapa import extracto

                area = bbox or _area_de_las_unidades()
                destino = Path(base.archivo_osm()).with_name("descarga.pmtiles")
                destino.parent.mkdir(parents=True, exist_ok=True)
                hecho = extracto.extraer(
                    archivo, bbox=area, destino=destino, zoom_max=zoom_max, progreso=self.stdout.write
                )
                self.stdout.write(
                    f"Extracto: {hecho.teselas} teselas, zoom {hecho.zooms[0]}–{hecho.zooms[1]}, "
                    f"{hecho.descargados} de {hecho.bloques} bloques bajados ahora ({hecho.bytes_descargados / 1e6:.1f} MB)."
                )
                ruta = destino
            else:
                ruta = Path(archivo)
            info = services.osm_instalar(ruta)
            if ruta != Path(archivo):
                ruta.unlink()  # the download, installed as a copy: no longer needed
        except EntradaInvalida as exc:
            raise CommandError(f"{exc.mensaje} {exc.detalle or ''}".strip()) from exc
        self.stdout.write(
            f"Mapa base instalado: zoom {info.minzoom}–{info.maxzoom}, límites {info.bounds}, "
            f"capas {', '.join(info.capas) or '(sin metadatos)'}, {info.bytes / 1e6:.1f} MB."
        )
