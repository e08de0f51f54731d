from __future__ import annotations

from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework_gis.pagination import GeoJsonPagination


class Paginacion(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


class PaginacionPorId(CursorPagination):
    """Stable cursor pagination, newest first, for append-only tables (alerts, events)."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


class PaginacionGeoJson(GeoJsonPagination):
    """A FeatureCollection with count/next/previous; large pages, since maps want everything."""

    default_limit = 1000
    max_limit = 20000
