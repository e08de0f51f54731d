"""The audit trail in the admin: searchable, filterable, read-only, for administrators only."""

from __future__ import annotations

from auditlog.mixins import LogEntryAdminMixin
from django.contrib import admin

from auditoria.models import Registro
from efectivos.alcance import alcance_de


class RegistroAdmin(LogEntryAdminMixin, admin.ModelAdmin):
    list_display = (
        "secuencia",
        "created",
        "resource_url",
        "action",
        "msg_short",
        "user_url",
        "rol",
        "interfaz",
        "remote_addr",
    )
    list_filter = ("action", "interfaz", "rol", "content_type", "timestamp")
    search_fields = ("object_repr", "changes_text", "actor__username", "actor__last_name", "remote_addr", "object_pk")
    date_hierarchy = "timestamp"
    list_select_related = ("actor", "content_type")
    readonly_fields = [f.name for f in Registro._meta.fields]

    def _es_admin(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and alcance_de(request.user).todo

    def has_module_permission(self, request) -> bool:
        return self._es_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._es_admin(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# django-auditlog registers its own admin for the log model (ours, swapped in): replace it.
if admin.site.is_registered(Registro):
    admin.site.unregister(Registro)
admin.site.register(Registro, RegistroAdmin)
