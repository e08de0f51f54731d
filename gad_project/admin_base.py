from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join


def distancia(metros: float | None) -> str:
    """A distance as a person reads it: "216 m", "1,2 km" (es-AR decimal comma), "—"."""
    if metros is None:
        return "—"
    if metros < 1000:
        return f"{metros:.0f} m"
    return f"{metros / 1000:.1f} km".replace(".", ",")


class SoloLecturaAdmin:
    """History and log models: viewable, never edited or added by hand (with mapa.admin_base's
    MapaSoloLecturaAdmin for geometries, shown on the offline map)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The exports (/api/v1/exportes/) offered in the admin as downloads, for the usual windows. The
# admin's session authenticates them; the export checks scope and audits the read like any other.
VENTANAS = (
    ("últimas 24 h", timedelta(hours=24)),
    ("últimos 7 días", timedelta(days=7)),
    ("últimos 30 días", timedelta(days=30)),
)
ETIQUETAS = {"gpx": "GPX", "kml": "KML", "geojson": "GeoJSON", "csv": "CSV"}


# Exports of people's data ask why first (auditoria.motivos): their links go through the reason form.
CON_MOTIVO = {"exportes_recorridos", "exportes_alertas"}


def descargas(nombre_url: str, formatos: tuple[str, ...], *, ventanas: bool = True, **parametros: object) -> list[dict]:
    base = reverse(nombre_url)
    ahora = timezone.now()
    filas = VENTANAS if ventanas else (("todas", None),)
    motivo = nombre_url in CON_MOTIVO

    def enlace(url: str) -> str:
        return f"{reverse('admin_motivo')}?{urlencode({'siguiente': url})}" if motivo else url

    return [
        {
            "ventana": etiqueta,
            "motivo": motivo,
            "enlaces": [
                (
                    ETIQUETAS[f],
                    enlace(
                        f"{base}?{urlencode({'formato': f, **parametros, **({'desde': (ahora - d).isoformat()} if d else {})})}"
                    ),
                )
                for f in formatos
            ],
        }
        for etiqueta, d in filas
    ]


def descargas_html(filas: list[dict]) -> str:
    return format_html_join(
        "",
        '<div class="descargas"><span>{}:</span> {}</div>',
        (
            (
                fila["ventana"],
                format_html_join(
                    " · ",
                    '<a href="{}"{}>{}</a>',
                    ((url, "" if fila["motivo"] else " download", etiqueta) for etiqueta, url in fila["enlaces"]),
                ),
            )
            for fila in filas
        ),
    )


class ConDescargas(admin.ModelAdmin):
    """A changelist with its model's export as downloads above the list."""

    change_list_template = "admin/change_list_descargas.html"
    descargas_url = ""
    descargas_formatos: tuple[str, ...] = ()
    descargas_ventanas = True

    def changelist_view(self, request, extra_context=None):
        extra = {
            "descargas": descargas(self.descargas_url, self.descargas_formatos, ventanas=self.descargas_ventanas),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)
