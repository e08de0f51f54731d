"""The API's JSON renderer: orjson, with every instant in the project's one convention.

orjson writes an aware datetime with the offset it carries, which for values read from
PostgreSQL is UTC ("+00:00"), while DRF's serializers write the agency's zone ("-03:00"). Views
that answer plain dicts would otherwise mix the two; here every datetime goes through
gad_project.tiempo.iso, whoever built the response."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer

from gad_project.tiempo import iso


class RenderJson(ORJSONRenderer):
    options = ORJSONRenderer.options | orjson.OPT_PASSTHROUGH_DATETIME

    @staticmethod
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return iso(obj) if obj.tzinfo is not None else obj.isoformat()
        if isinstance(obj, (date, time)):  # passed through along with datetimes
            return obj.isoformat()
        return ORJSONRenderer.default(obj)
