from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from efectivos.alcance import actor_de
from efectivos.models import FuentePosicion, Usuario
from gad_project.api.esquema import ErrorSerializer
from posiciones import ingesta, services
from posiciones.api.serializers import IngestaRespuestaSerializer, LecturaSerializer


class LecturasParser(BaseParser):
    """The same reading of a body as the lean path (posiciones.ingesta.cuerpo_leer)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return ingesta.cuerpo_leer(stream.read())


class PosicionesView(APIView):
    """Receive one reading or a batch (a JSON list, up to POSICIONES_LOTE_MAX).

    Bad readings are reported one by one while the good ones in the same batch are stored: a
    phone emptying a full buffer must not lose a day of positions to one corrupt reading. The
    response is then a 400 whose `detalle` says which readings were rejected and why, and how many
    were accepted; resending the whole batch is harmless (duplicates are counted, not stored).

    JWT clients are answered by the lean path in posiciones.asgi (group commit) with the same
    rules; this view serves everything else (a browser session) and documents the endpoint."""

    limite_ambito = "posiciones"  # LIMITE_POSICIONES, the same window as the lean ASGI path

    parser_classes = [LecturasParser]

    @extend_schema(
        request=LecturaSerializer(many=True), responses={201: IngestaRespuestaSerializer, 413: ErrorSerializer}
    )
    def post(self, request: Request) -> Response:
        usuario: Usuario = request.user  # type: ignore[assignment]  # IsAuthenticated: never anonymous
        preparadas = ingesta.lecturas_preparar(request.data, actor=actor_de(usuario), ahora=timezone.now())
        resultado = services.posiciones_registrar(lecturas=preparadas.lecturas, fuente=FuentePosicion.API)
        estado, cuerpo = ingesta.respuesta_armar(preparadas, resultado)
        return Response(cuerpo, status=estado)
