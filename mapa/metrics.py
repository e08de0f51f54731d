from __future__ import annotations

from prometheus_client import Counter, Histogram

TILES = Counter("gad_tiles_servidas_total", "Vector tiles served", ["capa", "cache"])
GENERACION = Histogram(
    "gad_tiles_generacion_seconds",
    "Time PostGIS takes to build one vector tile",
    ["capa"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
DENSIDAD_REFRESCO = Histogram(
    "gad_densidad_refresco_seconds",
    "Time to refresh the density materialized view",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
