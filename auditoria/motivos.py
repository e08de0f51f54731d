"""Why someone reads an officer's personal data (#30): a track, "who was where", an export with
personal data. Each such read states a reason — one of a short list, plus free text — which is
stored in the audit trail with the read, so an officer can see who looked at their data and why
(`GET /api/v1/yo/accesos/`).

The API asks for it on every read (`motivo`, `motivo_detalle` query parameters); without it the
answer is 400 `motivo_requerido`, whose `detalle` lists the reasons. The map asks the commander
once per officer per browser session and sends it with every read after that (static/js/mapa/api.js).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from gad_project.exceptions import EntradaInvalida

DETALLE_MAX = 200


class Motivo(models.TextChoices):
    SUPERVISION = "supervision", "Supervisión operativa del turno"
    INCIDENTE = "incidente", "Incidente o emergencia en curso"
    TAREA = "tarea", "Seguimiento de una tarea asignada"
    INVESTIGACION = "investigacion", "Investigación administrativa"
    JUDICIAL = "judicial", "Requerimiento judicial o fiscal"
    PEDIDO_DEL_EFECTIVO = "pedido_del_efectivo", "Pedido del propio efectivo"
    OTRO = "otro", "Otro (explicar)"


@dataclass(frozen=True)
class MotivoAcceso:
    motivo: str
    detalle: str

    def como_parametros(self) -> dict[str, Any]:
        """What the audit record keeps (additional_data)."""
        return {"motivo": self.motivo, "motivo_detalle": self.detalle or None}


def motivo_exigir(params: Any, *, clave: str) -> MotivoAcceso:
    """The reason stated in `params` (`motivo`, `motivo_detalle`), or EntradaInvalida (400):
    missing (`motivo_requerido`, with the list and the `clave` the map remembers it under), not
    one of the list, free text over DETALLE_MAX, or "otro" without an explanation."""
    motivo = (params.get("motivo") or "").strip()
    detalle = " ".join((params.get("motivo_detalle") or "").split())
    opciones = {m.value: m.label for m in Motivo}
    if not motivo:
        raise EntradaInvalida(
            "Indique el motivo del acceso a datos personales del efectivo.",
            detalle={"clave": clave, "opciones": opciones, "detalle_max": DETALLE_MAX},
            codigo="motivo_requerido",
        )
    if motivo not in opciones:
        raise EntradaInvalida(
            f"Motivo desconocido: {motivo[:40]!r}.",
            detalle={"motivo": motivo[:40], "opciones": opciones},
            codigo="motivo_invalido",
        )
    if len(detalle) > DETALLE_MAX:
        raise EntradaInvalida(
            f"El detalle del motivo admite hasta {DETALLE_MAX} caracteres.",
            detalle={"motivo_detalle": len(detalle), "maximo": DETALLE_MAX},
            codigo="motivo_invalido",
        )
    if motivo == Motivo.OTRO and not detalle:
        raise EntradaInvalida(
            "Con el motivo «Otro», explique el motivo en `motivo_detalle`.",
            detalle={"motivo_detalle": "requerido"},
            codigo="motivo_invalido",
        )
    return MotivoAcceso(motivo, detalle)
