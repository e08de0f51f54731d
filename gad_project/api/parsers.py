"""The API's JSON parser: orjson, bounded. DRF reads the body from the request's stream, which
skips Django's DATA_UPLOAD_MAX_MEMORY_SIZE check (that lives in `HttpRequest.body`), so the bound
is applied here: one byte over it and the request is a 413 in the project's error shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_orjson_renderer.parsers import ORJSONParser


class JsonAcotado(ORJSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        maximo = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None and maximo is not None:
            datos = stream.read(maximo + 1)
            if len(datos) > maximo:
                raise RequestDataTooBig(f"El cuerpo supera el máximo de {maximo // 1024} KB.")
            stream = _Leido(datos)
        return super().parse(stream, media_type, parser_context)


class _Leido:
    def __init__(self, datos: bytes) -> None:
        self.datos = datos

    def read(self) -> bytes:
        return self.datos
