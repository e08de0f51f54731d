"""The report's charts, drawn server-side as inline SVG (pygal, from PyPI; no script from any
CDN), so the printed page and its PDF carry them too."""

from __future__ import annotations

import html
from typing import Any

import pygal
from pygal.style import Style

ESTILO = Style(
    background="white",
    plot_background="white",
    foreground="#1f2328",
    foreground_strong="#1f2328",
    foreground_subtle="#8b949e",
    colors=("#2f81f7", "#f85149", "#d29922", "#2ea043", "#a371f7"),
    font_family="'Noto Sans Regular', sans-serif",
)
_OPCIONES: dict[str, Any] = {
    "style": ESTILO,
    "js": [],  # pygal's tooltips load a script from a CDN: not here
    "disable_xml_declaration": True,
    "height": 260,
    "width": 720,
    "show_legend": False,
    "print_values": False,
    "min_scale": 1,
    "max_scale": 8,  # whole counts: no 0.2 steps on the axis
}


def _svg(grafico) -> str:
    return grafico.render(is_unicode=True)


def alertas_por_hora(serie: list[tuple[Any, int]]) -> str:
    g = pygal.Bar(title="Alertas por hora", x_label_rotation=45, **_OPCIONES)
    g.x_labels = [f"{h:%d/%m %H}h" for h, _ in serie]
    g.x_labels_major_every = max(1, len(serie) // 12)
    g.show_minor_x_labels = len(serie) <= 24
    g.add("Alertas", [n for _, n in serie])
    return _svg(g)


def tiempos_de_respuesta(segundos: list[float]) -> str:
    """How long accepting an assignment took: counts per band of minutes."""
    bandas = [(0, 1), (1, 2), (2, 5), (5, 10), (10, 30), (30, None)]
    g = pygal.Bar(title="Tiempo hasta aceptar una asignación", **_OPCIONES)
    g.x_labels = [f"{a}–{b} min" if b else f"> {a} min" for a, b in bandas]
    g.add(
        "Asignaciones", [sum(1 for s in segundos if a * 60 <= s < (b * 60 if b else float("inf"))) for a, b in bandas]
    )
    return _svg(g)


def tareas_por_estado(tareas: list[tuple[str, str, int]], etiquetas: dict[str, str]) -> str:
    por_estado: dict[str, int] = {}
    for _, estado, n in tareas:
        por_estado[estado] = por_estado.get(estado, 0) + n
    g = pygal.HorizontalBar(title="Tareas del período por estado", **_OPCIONES)
    g.x_labels = [etiquetas.get(e, e) for e in por_estado]
    g.add("Tareas", list(por_estado.values()))
    return _svg(g)


def mapa_de_alertas(puntos: list[tuple[float, float, str]], contorno: list[list[tuple[float, float]]]) -> str:
    """Where the alerts happened, over the unidad's jurisdiction: a plain SVG (equirectangular at
    the area's latitude, which at city scale is indistinguishable from the map's projection)."""
    import math

    todos = [(x, y) for x, y, _ in puntos] + [p for anillo in contorno for p in anillo]
    if not todos:
        return '<p class="tenue">Sin alertas con lugar en el período.</p>'
    x0, x1 = min(p[0] for p in todos), max(p[0] for p in todos)
    y0, y1 = min(p[1] for p in todos), max(p[1] for p in todos)
    k = math.cos(math.radians((y0 + y1) / 2))
    ancho_m, alto_m = max((x1 - x0) * k, 1e-6), max(y1 - y0, 1e-6)
    w = 720
    h = max(160, min(480, int(w * alto_m / ancho_m)))
    escala = min((w - 40) / ancho_m, (h - 40) / alto_m)

    def xy(x: float, y: float) -> tuple[float, float]:
        return 20 + (x - x0) * k * escala, h - 20 - (y - y0) * escala

    colores = {"critica": "#f85149", "advertencia": "#d29922", "info": "#2f81f7"}
    partes = [f'<svg viewBox="0 0 {w} {h}" class="mapa-alertas" role="img" aria-label="Lugares de las alertas">']
    partes.append(f'<rect width="{w}" height="{h}" fill="#f6f8fa"/>')
    for anillo in contorno:
        d = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(x, y) for x, y in anillo))
        partes.append(f'<polygon points="{d}" fill="none" stroke="#57606a" stroke-dasharray="6 4"/>')
    for x, y, sev in puntos:
        a, b = xy(x, y)
        partes.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{colores.get(sev, "#888")}" fill-opacity=".75"/>')
    partes.append(
        f'<text x="{w - 10}" y="{h - 6}" text-anchor="end" font-size="11" fill="#57606a">{html.escape(str(len(puntos)))} alertas</text>'
    )
    partes.append("</svg>")
    return "".join(partes)
