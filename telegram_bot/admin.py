from __future__ import annotations

from django.contrib import admin

from gad_project.admin_base import SoloLecturaAdmin
from telegram_bot.models import CodigoVinculacion, Notificacion


@admin.register(CodigoVinculacion)
class CodigoVinculacionAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("usuario", "creado_por", "creado_en", "vence_en", "usado_en")
    list_select_related = ("usuario", "creado_por")
    exclude = ("codigo",)


@admin.register(Notificacion)
class NotificacionAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("id", "usuario", "estado", "intentos", "creada_en", "enviada_en", "ultimo_error")
    list_filter = ("estado",)
    search_fields = ("usuario__username", "texto")
    list_select_related = ("usuario",)
