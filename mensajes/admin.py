from __future__ import annotations

from django.contrib import admin

from mensajes.models import Entrega, Mensaje, Respuesta


class EntregaInline(admin.TabularInline):
    model = Entrega
    extra = 0
    can_delete = False
    fields = ("efectivo", "entregado_en", "entregado_por", "leido_en", "confirmado_en", "reenvios")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RespuestaInline(admin.TabularInline):
    model = Respuesta
    extra = 0
    can_delete = False
    fields = ("efectivo", "texto", "creada_en")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Mensaje)
class MensajeAdmin(admin.ModelAdmin):
    """A record of what command said to whom: read-only (messages are written from the map)."""

    list_display = ("id", "creado_en", "autor", "destino", "urgente", "texto")
    list_filter = ("urgente", "destino")
    search_fields = ("autor__username", "autor__last_name")  # the text is encrypted at rest: not searchable
    date_hierarchy = "creado_en"
    fields = ("autor", "creado_en", "destino", "unidad", "urgente", "texto")
    readonly_fields = fields
    inlines = [EntregaInline, RespuestaInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
