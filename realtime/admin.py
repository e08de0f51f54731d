from __future__ import annotations

from django.contrib import admin

from gad_project.admin_base import SoloLecturaAdmin
from realtime.models import Evento, Poda


@admin.register(Evento)
class EventoAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("id", "tipo", "audiencia", "creado_en")
    list_filter = ("tipo",)
    search_fields = ("tipo",)
    show_full_result_count = False


@admin.register(Poda)
class PodaAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("ejecutada_en", "hasta_id", "borrados")
