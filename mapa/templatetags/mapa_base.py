"""Whether the map's streets are installed, for the pages that tell an admin how to install them."""

from __future__ import annotations

from django import template

from mapa import base

register = template.Library()


@register.simple_tag
def calles_instaladas() -> bool:
    return base.osm_info() is not None
