"""One pagination style for every list: `?limit=` (up to the documented maximum) and `?offset=`,
answered with `count`, `next` and `previous`. GeoJSON lists answer a FeatureCollection with the
same three fields beside `features`."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class Paginacion(LimitOffsetPagination):
    """`limit` 100 by default, 1,000 at most."""

    default_limit = 100
    max_limit = 1000


class PaginacionGeoJson(LimitOffsetPagination):
    """A FeatureCollection with count/next/previous; `limit` 1,000 by default and 20,000 at most,
    since maps want everything in scope."""

    default_limit = 1000
    max_limit = 20000

    def get_paginated_response(self, data):
        return Response(
            {
                "type": "FeatureCollection",
                "count": self.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "features": data["features"],
            }
        )

    def get_paginated_response_schema(self, schema):
        base = super().get_paginated_response_schema(schema)
        propiedades = base["properties"]
        features = propiedades.pop("results")
        # drf-spectacular hands over the serializer's many=True schema, which rest_framework_gis
        # names "<Feature>List" and makes a FeatureCollection itself: point at its items instead.
        ref = features.get("$ref", "")
        if ref.endswith("List"):
            features = {"type": "array", "items": {"$ref": ref.removesuffix("List")}}
        elif features.get("type") == "object" and "features" in features.get("properties", {}):
            features = features["properties"]["features"]
        base["properties"] = {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            **propiedades,
            "features": features,
        }
        base["required"] = ["type", "count", "features"]
        return base
