"""What the bot says: texts and inline keyboards, in Spanish. Pure functions of domain data, so the
bot, the notifications and the tests share them. Keyboards are stored as plain lists (rows of
{"texto", "datos"}) in notifications and turned into Telegram markup when sent."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from efectivos.models import EstadoEfectivo
from tareas.models import EstadoAsignacion, EstadoTarea, Prioridad

AYUDA = (
    "Comandos:\n"
    "/tareas — sus tareas abiertas, con botones para aceptar, rechazar, iniciar, pausar, reanudar y finalizar\n"
    "/estado — cambiar su disponibilidad\n"
    "/emergencia <descripción> — reportar una emergencia; después comparta su ubicación\n"
    "🆘 SOS (el botón fijo, o /sos) — pedir auxilio: avisa al mando y despacha al refuerzo más cercano\n"
    "/ayuda — esta ayuda\n\n"
    "Compartir ubicación (o ubicación en tiempo real) registra su posición como la aplicación."
)
SIN_VINCULAR = (
    "Esta cuenta de Telegram no está vinculada a ningún efectivo.\n"
    "Pida a su comandante un código de vinculación y ábralo desde el enlace que le den "
    "(o envíe /start <código>)."
)
POR_PAGINA = 5
BOTON_SOS = "🆘 SOS"


def sos_texto(*, ubicado: bool, despachado: bool, refuerzos: int) -> str:
    if not ubicado:
        return "🆘 SOS enviado: el mando ya está avisado. Comparta su ubicación para despachar el refuerzo."
    if despachado and refuerzos:
        return f"🆘 SOS enviado. Refuerzo en camino: {refuerzos} efectivo(s). El mando está avisado."
    if despachado:
        return "🆘 SOS enviado: el mando está avisado. No hay efectivos disponibles cerca: el centro de operaciones despacha."
    return "🆘 Su SOS sigue activo: el mando está avisado y el refuerzo, despachado."


ESTADOS_ELEGIBLES = (EstadoEfectivo.DISPONIBLE, EstadoEfectivo.NO_DISPONIBLE, EstadoEfectivo.FUERA_SERVICIO)


def teclado(botones: list | None) -> InlineKeyboardMarkup | None:
    if not botones:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["texto"], callback_data=b["datos"]) for b in fila] for fila in botones]
    )


def boton(texto: str, datos: str) -> dict[str, str]:
    return {"texto": texto, "datos": datos}


def acciones_de(estado_tarea: str, estado_asignacion: str | None) -> list[dict[str, str]]:
    """The buttons an assigned efectivo has for a task, given where it stands."""
    if estado_asignacion == EstadoAsignacion.PENDIENTE:
        return [boton("✅ Aceptar", "aceptar"), boton("❌ Rechazar", "rechazar")]
    if estado_asignacion != EstadoAsignacion.ACEPTADA:
        return []
    por_estado: dict[str, list[dict[str, str]]] = {
        EstadoTarea.ASIGNADA: [boton("▶️ Iniciar", "iniciar")],
        EstadoTarea.EN_CURSO: [boton("⏸ Pausar", "pausar"), boton("🏁 Finalizar", "finalizar")],
        EstadoTarea.PAUSADA: [boton("▶️ Reanudar", "reanudar"), boton("🏁 Finalizar", "finalizar")],
    }
    return por_estado.get(estado_tarea, [])


def tarea_texto(*, codigo: str, titulo: str, estado: str, prioridad: int, descripcion: str = "") -> str:
    texto = f"{codigo} · {titulo}\nEstado: {EstadoTarea(estado).label} · Prioridad: {Prioridad(prioridad).label}"
    return texto + (f"\n{descripcion}" if descripcion else "")


def tarea_botones(tarea_id: int, estado_tarea: str, estado_asignacion: str | None) -> list:
    fila = [boton(b["texto"], f"t:{b['datos']}:{tarea_id}") for b in acciones_de(estado_tarea, estado_asignacion)]
    return [fila] if fila else []


def notificacion(tipo: str, datos: dict) -> tuple[str, list]:
    """The message an efectivo receives for an event (empty text: nothing to send)."""
    if tipo == "tarea.asignada":
        texto = "📋 Nueva tarea asignada\n" + tarea_texto(
            codigo=datos["codigo"], titulo=datos["titulo"], estado=datos["estado"], prioridad=datos["prioridad"]
        )
        if datos.get("distancia_m") is not None:
            texto += f"\nA {round(datos['distancia_m'])} m de su posición."
        return texto, tarea_botones(datos["tarea_id"], datos["estado"], EstadoAsignacion.PENDIENTE)
    if tipo in ("tarea.estado", "tarea.actualizada"):
        cambio = "cambió de estado" if tipo == "tarea.estado" else "fue modificada"
        return (
            f"🔄 La tarea {datos['codigo']} {cambio}\n"
            + tarea_texto(
                codigo=datos["codigo"], titulo=datos["titulo"], estado=datos["estado"], prioridad=datos["prioridad"]
            ),
            [],
        )
    if tipo == "alerta.geocerca":
        verbo = {"entrada": "Entró en", "salida": "Salió de", "permanencia": "Permanece en"}.get(
            datos["tipo"], "Alerta en"
        )
        return f"⚠️ {verbo} la geocerca «{datos['geocerca']}»", []
    if tipo == "alerta.escalada":
        que = {"entrada": "Entrada en", "salida": "Salida de", "permanencia": "Permanencia en"}.get(
            datos["tipo"], "Alerta en"
        )
        veces = f" ({datos['repeticiones']} veces)" if datos["repeticiones"] > 1 else ""
        return (
            f"⏫ Alerta sin reconocer hace {datos['minutos']} min\n"
            f"{que} «{datos['geocerca']}»{veces}: {datos['efectivo']}\n"
            "Reconózcala aquí o en el mapa de operaciones.",
            [[boton("✅ Reconocer", f"a:r:{datos['alerta_id']}")]],
        )
    return "", []


def estado_teclado(actual: str) -> list:
    return [[boton(("● " if e == actual else "") + EstadoEfectivo(e).label, f"e:{e}")] for e in ESTADOS_ELEGIBLES]
