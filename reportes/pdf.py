"""The report as a PDF file, drawn on the server by WeasyPrint from the same page (its print
styles, the same SVG charts and fonts). Its stylesheets, fonts and images are read from the
project's static files; nothing is fetched over the network."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

BASE = "http://gad.pdf/"  # a name no request resolves: every URL is answered below


class _Estaticos(URLFetcher):
    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        prefijo = BASE + settings.STATIC_URL.lstrip("/")
        if not url.startswith(prefijo):
            raise URLFetchingError(f"Not a static file: {url}")
        nombre = url[len(prefijo) :].split("?", 1)[0].split("#", 1)[0]
        ruta = finders.find(nombre) or (
            staticfiles_storage.path(nombre) if staticfiles_storage.exists(nombre) else None
        )
        if not ruta:
            raise URLFetchingError(f"No such static file: {nombre}")
        with open(ruta if isinstance(ruta, str) else ruta[0], "rb") as f:
            cuerpo = f.read()
        tipo = mimetypes.guess_type(nombre)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=cuerpo, headers={"Content-Type": tipo})


def pdf_de(html: str) -> bytes:
    from weasyprint import HTML  # its stylesheets are parsed on import: only when a PDF is asked for

    return HTML(string=html, base_url=BASE, url_fetcher=_Estaticos(), media_type="print").write_pdf()
