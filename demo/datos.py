"""Demo operating area: Buenos Aires, three unidades, real-looking geofences. Deterministic."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import time
from typing import Any

from django.contrib.gis.geos import MultiPolygon, Polygon

UNIDADES = [
    # codigo, nombre, jurisdicción (lon, lat ring)
    (
        "CC1",
        "Comisaría Comunal 1 · Centro",
        [
            (-58.3930, -34.6300),
            (-58.3560, -34.6300),
            (-58.3560, -34.6040),
            (-58.3640, -34.5850),
            (-58.3800, -34.5830),
            (-58.3930, -34.5950),
            (-58.3930, -34.6300),
        ],
    ),
    (
        "CC14",
        "Comisaría Comunal 14 · Palermo",
        [
            (-58.4450, -34.5950),
            (-58.4020, -34.5950),
            (-58.3990, -34.5780),
            (-58.4100, -34.5600),
            (-58.4300, -34.5560),
            (-58.4450, -34.5700),
            (-58.4450, -34.5950),
        ],
    ),
    (
        "CC4",
        "Comisaría Comunal 4 · La Boca y Barracas",
        [
            (-58.4050, -34.6600),
            (-58.3520, -34.6600),
            (-58.3500, -34.6330),
            (-58.3700, -34.6290),
            (-58.4050, -34.6310),
            (-58.4050, -34.6600),
        ],
    ),
]

# nombre, tipo, centro (lon, lat), radio (m), severidad, unidades (codes; empty = all), dwell (s)
GEOCERCAS = [
    ("Casa Rosada", "restringida", (-58.3703, -34.6081), 110, "critica", [], None),
    ("Congreso de la Nación", "restringida", (-58.3926, -34.6097), 120, "critica", [], None),
    ("Plaza de Mayo", "control", (-58.3722, -34.6083), 160, "advertencia", ["CC1"], 180),
    ("Perímetro Puerto Madero", "perimetro", (-58.3640, -34.6100), 900, "advertencia", ["CC1"], None),
    ("Obelisco y 9 de Julio", "control", (-58.3816, -34.6037), 220, "info", ["CC1"], 900),
    ("Estación Retiro", "control", (-58.3745, -34.5912), 250, "info", ["CC1"], None),
    ("Perímetro Bosques de Palermo", "perimetro", (-58.4180, -34.5720), 1100, "advertencia", ["CC14"], None),
    ("Aeroparque Jorge Newbery", "restringida", (-58.4157, -34.5592), 450, "critica", [], None),
    ("Estadio Alberto J. Armando", "restringida", (-58.3648, -34.6356), 170, "critica", ["CC4"], None),
    ("Perímetro Hospital Argerich", "perimetro", (-58.3660, -34.6270), 140, "advertencia", ["CC4"], 1200),
    ("Caminito", "control", (-58.3627, -34.6390), 150, "info", ["CC4"], 600),
]

# Rectangular restricted strips: nombre, centro (lon, lat), largo north-south (m), ancho east-west
# (m), severidad. A car crossing one between two sparse fixes could not have gone around it: the
# demo's crossing (geocercas.engine, SQL_CRUCES).
FRANJAS = [
    ("Zona de exclusión Costanera Sur", (-58.3540, -34.6130), 1600, 250, "critica"),
]

# Fences that apply only at some times: name -> (ISO weekdays, from, to), local time.
HORARIOS = {
    "Estadio Alberto J. Armando": ([5, 6, 7], time(18), time(2)),  # match nights, past midnight
}

NOMBRES = [
    "Juan",
    "María",
    "Carlos",
    "Lucía",
    "Martín",
    "Sofía",
    "Diego",
    "Valentina",
    "Pablo",
    "Camila",
    "Nicolás",
    "Florencia",
    "Federico",
    "Agustina",
    "Matías",
    "Julieta",
    "Gonzalo",
    "Carolina",
    "Santiago",
    "Micaela",
    "Hernán",
    "Paula",
    "Ezequiel",
    "Romina",
]
APELLIDOS = [
    "González",
    "Rodríguez",
    "Gómez",
    "Fernández",
    "López",
    "Díaz",
    "Martínez",
    "Pérez",
    "García",
    "Sánchez",
    "Romero",
    "Sosa",
    "Álvarez",
    "Torres",
    "Ruiz",
    "Ramírez",
    "Flores",
    "Acosta",
    "Benítez",
    "Medina",
    "Herrera",
    "Suárez",
    "Aguirre",
    "Giménez",
    "Molina",
]
RANGOS = ["Agente", "Agente", "Agente", "Cabo", "Cabo", "Sargento", "Subinspector", "Inspector"]
ESPECIALIDADES = ["motorizado", "canino", "transito", "primeros_auxilios", "negociador", "montada"]

METROS_POR_GRADO_LAT = 111_320.0


def rectangulo(centro: tuple[float, float], largo_m: float, ancho_m: float) -> MultiPolygon:
    """A rectangle `largo_m` north to south and `ancho_m` east to west around `centro`."""
    lon0, lat0 = centro
    dx = ancho_m / 2 / (METROS_POR_GRADO_LAT * math.cos(math.radians(lat0)))
    dy = largo_m / 2 / METROS_POR_GRADO_LAT
    anillo = [(lon0 - dx, lat0 - dy), (lon0 + dx, lat0 - dy), (lon0 + dx, lat0 + dy), (lon0 - dx, lat0 + dy)]
    return MultiPolygon(Polygon([*anillo, anillo[0]], srid=4326), srid=4326)


def poligono_irregular(
    centro: tuple[float, float], radio_m: float, *, vertices: int = 24, seed: int = 0
) -> MultiPolygon:
    """A closed, valid, irregular ring around `centro`: looks drawn by hand, not a circle."""
    rnd = random.Random(seed)
    lon0, lat0 = centro
    m_lon = METROS_POR_GRADO_LAT * math.cos(math.radians(lat0))
    anillo = []
    for i in range(vertices):
        ang = 2 * math.pi * i / vertices
        r = radio_m * rnd.uniform(0.75, 1.2)
        anillo.append((lon0 + r * math.cos(ang) / m_lon, lat0 + r * math.sin(ang) / METROS_POR_GRADO_LAT))
    anillo.append(anillo[0])
    return MultiPolygon(Polygon(anillo, srid=4326), srid=4326)


def punto_en(poligono: Polygon, rnd: random.Random, evitar: Sequence[Any] = ()) -> tuple[float, float]:
    """A random point of `poligono`, outside every geometry of `evitar` (prepared or not)."""
    x0, y0, x1, y1 = poligono.extent
    from django.contrib.gis.geos import Point

    while True:
        p = Point(rnd.uniform(x0, x1), rnd.uniform(y0, y1), srid=4326)
        if poligono.contains(p) and not any(zona.contains(p) for zona in evitar):
            return p.x, p.y


# Phones of a few demo efectivos, driven by the simulator through the real device endpoints (so a
# newcomer sees devices, batteries and a low-battery marker). Demo credentials, like the demo
# passwords: (efectivo code, app, secret, OwnTracks user, starting battery %).
EQUIPOS = [
    ("CC1-0002", "traccar", "demo-traccar-cc1-0002", None, 88.0),
    ("CC1-0003", "traccar", "demo-traccar-cc1-0003", None, 17.0),
    ("CC14-0002", "traccar", "demo-traccar-cc14-0002", None, 64.0),
    ("CC1-0004", "owntracks", "demo-owntracks-cc1-0004", "demo-ot-cc1-0004", 71.0),
    ("CC4-0002", "owntracks", "demo-owntracks-cc4-0002", "demo-ot-cc4-0002", 12.0),
]
