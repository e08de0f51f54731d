from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from redis.exceptions import RedisError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gad_project.api.errors import error_body
from realtime import tickets


class TicketView(APIView):
    """Trade the API token for a single-use WebSocket ticket: /ws/eventos/?ticket=<ticket>."""

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "Ticket", {"ticket": serializers.CharField(), "expira_en_s": serializers.IntegerField()}
            )
        },
    )
    def post(self, request):
        try:
            ticket = tickets.ticket_emitir(usuario=request.user)
        except RedisError:
            return Response(
                error_body("servicio_no_disponible", "El servicio de tiempo real no está disponible; reintente.", None),
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "2"},
            )
        return Response({"ticket": ticket, "expira_en_s": settings.WS_TICKET_TTL_S}, status=status.HTTP_201_CREATED)
