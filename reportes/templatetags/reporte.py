"""How the report writes a duration: seconds up to ten minutes, then minutes, then hours."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def duracion(segundos: float | None) -> str:
    if segundos is None:
        return "—"
    if segundos < 600:
        return f"{segundos:.0f} s"
    if segundos < 7200:
        return f"{segundos / 60:.0f} min"
    return f"{number_format(segundos / 3600, 1)} h"
