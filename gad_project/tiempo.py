"""The API's one convention for instants: ISO 8601 in the agency's zone (TIME_ZONE, by default
America/Argentina/Buenos_Aires, so "-03:00"), as DRF's serializers already render them. Events,
tracks and error details use it too, whatever offset a device sent."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def iso(momento: datetime) -> str:
    # The default zone (cached), not timezone.localtime's current one: that lookup goes through
    # asgiref's context-local storage on every call, and the ingest formats every reading's time.
    return momento.astimezone(timezone.get_default_timezone()).isoformat()
