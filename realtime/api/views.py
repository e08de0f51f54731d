from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

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
        ticket = tickets.ticket_emitir(usuario=request.user)
        return Response({"ticket": ticket, "expira_en_s": settings.WS_TICKET_TTL_S}, status=status.HTTP_201_CREATED)
