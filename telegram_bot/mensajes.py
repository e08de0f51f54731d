"""What the bot says: texts and inline keyboards, in Spanish. Pure functions of domain data, so the
bot, the notifications and the tests share them. Keyboards are stored as plain lists (rows of
{"texto", "datos"}) in notifications and turned into Telegram markup when sent."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from efectivos.models import EstadoEfectivo
from tareas.models import EstadoAsignacion, EstadoTarea, Prioridad

AYUDA = (
    "Comandos (también en el menú y en los botones de abajo):\n"
    "/tareas — sus tareas abiertas, con botones para aceptar, rechazar (con motivo), avisar «Llegué», "
    "iniciar, pausar, reanudar y finalizar\n"
    "/estado — cambiar su disponibilidad\n"
    "/inicio_servicio y /fin_servicio — empezar y terminar el servicio (fuera de servicio su ubicación no se registra)\n"
    "/accesos — quién consultó sus datos (recorridos, exportes), cuándo y por qué\n"
    "/emergencia <descripción> — reportar una emergencia; después comparta su ubicación\n"
    "🆘 SOS (el botón fijo, o /sos) — pedir auxilio: avisa al mando y despacha al refuerzo más cercano\n"
    "/ayuda — esta ayuda\n\n"
    "Compartir ubicación (o ubicación en tiempo real) registra su posición como la aplicación."
)
AYUDA_MANDO = (
    "Recibirá aquí las alertas que nadie reconoció a tiempo en el mapa, con un botón para reconocerlas.\n"
    "El resto de la operación, en el mapa de operaciones."
)
# The bot's menu (set_my_commands): what Telegram lists when the user types "/".
COMANDOS = [
    ("tareas", "Mis tareas abiertas"),
    ("estado", "Cambiar mi disponibilidad"),
    ("emergencia", "Reportar una emergencia"),
    ("sos", "Pedir auxilio"),
    ("inicio_servicio", "Inicio de servicio"),
    ("fin_servicio", "Fin de servicio"),
    ("accesos", "Quién consultó mis datos"),
    ("ayuda", "Ayuda"),
]
FUERA_DE_SERVICIO = (
    "Está fuera de servicio: su ubicación no se registra. Para empezar su turno: /inicio_servicio "
    "(en caso de peligro, 🆘 SOS igual avisa al mando)."
)
SOLO_PRIVADO = "Por seguridad, el bot solo atiende en un chat privado: escríbale directamente."
BOTON_TAREAS = "📋 Mis tareas"
BOTON_ESTADO = "🔄 Mi estado"
# Why an efectivo turns a task down: offered as buttons after "Rechazar" (the commander reads it in
# the task's history and the next nearest efectivo is dispatched).
MOTIVOS_RECHAZO = ("Estoy en otra tarea", "Estoy lejos", "Sin medios para llegar", "Fuera de servicio")
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


def hora(iso: str) -> str:
    """HH:MM in the agency's zone, from an ISO time."""
    from datetime import datetime

    from django.utils import timezone

    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%H:%M")


def boton(texto: str, datos: str) -> dict[str, str]:
    return {"texto": texto, "datos": datos}


def acciones_de(estado_tarea: str, estado_asignacion: str | None, *, llego: bool = False) -> list[dict[str, str]]:
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
    botones = por_estado.get(estado_tarea, [])
    if botones and not llego:
        botones = [boton("📍 Llegué", "llegue"), *botones]
    return botones


def tarea_texto(
    *, codigo: str, titulo: str, estado: str, prioridad: int, descripcion: str = "", lugar: str | None = None
) -> str:
    texto = f"{codigo} · {titulo}\nEstado: {EstadoTarea(estado).label} · Prioridad: {Prioridad(prioridad).label}"
    return texto + (f"\n📍 {lugar}" if lugar else "") + (f"\n{descripcion}" if descripcion else "")


def tarea_botones(tarea_id: int, estado_tarea: str, estado_asignacion: str | None, *, llego: bool = False) -> list:
    fila = [
        boton(b["texto"], f"t:{b['datos']}:{tarea_id}")
        for b in acciones_de(estado_tarea, estado_asignacion, llego=llego)
    ]
    return [fila[i : i + 3] for i in range(0, len(fila), 3)] if fila else []


def motivos_botones(tarea_id: int) -> list:
    """The reasons to turn a task down, one per row, and a way back."""
    filas = [[boton(m, f"r:{tarea_id}:{i}")] for i, m in enumerate(MOTIVOS_RECHAZO)]
    return [*filas, [boton("Sin motivo", f"r:{tarea_id}:-"), boton("↩️ Volver", f"r:{tarea_id}:x")]]


UBICACION_REENVIADA = "⚠️ No se registran ubicaciones reenviadas: envíe la suya con el botón «📍 Enviar mi ubicación»."


def ubicacion_de(tipo: str, datos: dict) -> dict | None:
    """Where a notification points to (sent as a venue after its text): the task's place for an
    assignment (emergencies and SOS backup are assignments too)."""
    if tipo == "tarea.asignada" and datos.get("lat") is not None:
        distancia = datos.get("distancia_m")
        return {
            "lat": datos["lat"],
            "lon": datos["lon"],
            "titulo": f"{datos['codigo']} · {datos['titulo']}"[:100],
            "direccion": f"A {round(distancia)} m de su posición" if distancia is not None else "Lugar de la tarea",
        }
    return None


# Geofence alerts pushed to the efectivo concerned: only those they must act on at once (critical:
# inside a restricted zone, out of their perimeter or corridor). The rest the commanders see.
SEVERIDADES_NOTIFICADAS = ("critica",)


def notificacion(tipo: str, datos: dict) -> tuple[str, list]:
    """The message an efectivo receives for an event (empty text: nothing to send)."""
    if tipo == "tarea.asignacion":
        por = {
            "vencida": "no se aceptó a tiempo",
            "liberada": "el mando lo liberó",
            "reasignada": "el mando la reasignó",
        }.get(datos["respuesta"])
        if por is None:
            return "", []
        return f"↪️ La tarea {datos['codigo']} · {datos['titulo']} fue reasignada a otro efectivo ({por}).", []
    if tipo == "tarea.sin_cubrir":
        return (
            f"⚠️ La tarea {datos['codigo']} · {datos['titulo']} quedó sin cubrir: faltan {datos['faltan']} "
            f"efectivo(s) y no hay disponibles a menos de {datos['radio_m'] / 1000:g} km.",
            [],
        )
    if tipo == "mensaje.nuevo":
        # Sent as plain text: whatever the commander typed (HTML included) is shown as written.
        cabeza = "🚨 URGENTE · " if datos["urgente"] else "✉️ "
        if datos.get("reenvio"):
            cabeza += f"(reenvío {datos['reenvio']}) "
        texto = f"{cabeza}Mensaje de {datos['autor']}:\n{datos['texto']}"
        if datos["urgente"]:
            return texto + "\n\nConfirme que lo recibió.", [[boton("✅ Recibido", f"m:{datos['mensaje_id']}")]]
        return texto, []
    if tipo == "bienestar.pedido":
        return (
            "🩺 Control de bienestar: ¿está bien? Responda con el botón"
            + (f" antes de las {hora(datos['vence_en'])}." if datos.get("vence_en") else "."),
            [[boton("👍 Estoy bien", "b:ok")]],
        )
    if tipo == "bienestar.estado" and datos["estado"] == "fallido":
        veces = datos["fallos_seguidos"]
        return (
            f"⚠️ {datos['efectivo']} no respondió el control de bienestar"
            + (f" ({veces} seguidos)." if veces > 1 else ".")
            + (" Se activó un SOS en su nombre y se despachó refuerzo." if datos.get("sos_id") else ""),
            [],
        )
    if tipo == "tarea.asignada":
        texto = "📋 Nueva tarea asignada\n" + tarea_texto(
            codigo=datos["codigo"],
            titulo=datos["titulo"],
            estado=datos["estado"],
            prioridad=datos["prioridad"],
            lugar=datos.get("lugar"),
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
        if datos.get("severidad") not in SEVERIDADES_NOTIFICADAS:
            return "", []
        verbo = {"entrada": "Entró en", "salida": "Salió de", "permanencia": "Permanece en"}.get(
            datos["tipo"], "Alerta en"
        )
        que_hacer = {
            "entrada": "Salga de la zona y avise al mando.",
            "salida": "Vuelva a su zona asignada.",
        }.get(datos["tipo"], "Avise al mando.")
        donde = f"\n📍 {datos['lugar']}" if datos.get("lugar") else ""
        return f"⚠️ {verbo} la geocerca «{datos['geocerca']}». {que_hacer}{donde}", []
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
