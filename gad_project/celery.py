from __future__ import annotations

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gad_project.settings")

app = Celery("gad_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "geocercas-permanencias": {"task": "geocercas.tasks.permanencias_verificar", "schedule": 15.0},
    "realtime-eventos-podar": {"task": "realtime.tasks.eventos_podar", "schedule": 3600.0},
    "efectivos-particiones": {"task": "efectivos.tasks.particiones_mantener", "schedule": 3600.0},
    "auditoria-podar": {"task": "auditoria.tasks.podar", "schedule": 86400.0},
    "efectivos-fuera-de-servicio": {"task": "efectivos.tasks.posiciones_fuera_de_servicio_olvidar", "schedule": 60.0},
    "retencion-aplicar": {"task": "gad_project.tasks.retencion_aplicar", "schedule": 86400.0},
    "auditoria-anclar": {"task": "auditoria.tasks.anclar", "schedule": 60.0 * settings.AUDITORIA_ANCLA_MIN},
    "geocercas-escalar-alertas": {"task": "geocercas.tasks.alertas_escalar", "schedule": 60.0},
    "tareas-asignaciones-vencer": {"task": "tareas.tasks.asignaciones_vencer", "schedule": 5.0},
    "seguridad-bienestar": {"task": "seguridad.tasks.bienestar_revisar", "schedule": 5.0},
    "telegram-mensajes-urgentes": {"task": "telegram_bot.tasks.mensajes_urgentes_reenviar", "schedule": 15.0},
    "seguridad-sin-reporte": {"task": "seguridad.tasks.sin_reporte_revisar", "schedule": 60.0},
    "tareas-estadisticas": {"task": "tareas.tasks.estadisticas_refrescar", "schedule": 60.0},
    "mapa-densidad": {"task": "mapa.tasks.densidad_refrescar", "schedule": 60.0},
    "telegram-notificaciones": {"task": "telegram_bot.tasks.notificaciones_despachar", "schedule": 3.0},
    "telegram-podar": {"task": "telegram_bot.tasks.podar", "schedule": 3600.0},
}
