from __future__ import annotations

from django.contrib import admin, messages

from gad_project.admin_base import MapaAdmin, SoloLecturaAdmin
from geocercas import services
from geocercas.models import Alerta, AlertaNota, Geocerca, Presencia


@admin.register(Geocerca)
class GeocercaAdmin(MapaAdmin):
    list_display = ("nombre", "tipo", "severidad", "activa", "histeresis_m", "permanencia_min_s", "version")
    list_filter = ("tipo", "activa", "severidad", "unidades")
    search_fields = ("nombre", "descripcion")
    filter_horizontal = ("unidades",)
    readonly_fields = ("version", "creada_en", "actualizada_en")

    def save_model(self, request, obj, form, change):
        # Version bump, cache invalidation and the event belong to the service, which also sets the
        # unidades: the event must name the fence's audience after they are saved.
        services.geocerca_guardar(
            geocerca=obj, unidades=[u.pk for u in form.cleaned_data.get("unidades", [])], usuario=request.user
        )

    def delete_model(self, request, obj):
        services.geocerca_eliminar(geocerca=obj, usuario=request.user)

    def delete_queryset(self, request, queryset):
        # The bulk action too: each deletion is published and moves the tile layer's version.
        for geocerca in queryset:
            services.geocerca_eliminar(geocerca=geocerca, usuario=request.user)


@admin.register(Presencia)
class PresenciaAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("efectivo", "geocerca", "dentro", "desde", "permanencia_alertada")
    list_filter = ("dentro", "geocerca")
    search_fields = ("efectivo__apellido", "efectivo__codigo_interno", "geocerca__nombre")
    list_select_related = ("efectivo", "geocerca")


class AlertaNotaInline(admin.TabularInline):
    model = AlertaNota
    extra = 0
    can_delete = False
    fields = ("estado", "usuario", "nota", "en")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alerta)
class AlertaAdmin(SoloLecturaAdmin, MapaAdmin):
    list_display = (
        "id",
        "tipo",
        "severidad",
        "estado",
        "repeticiones",
        "efectivo",
        "geocerca",
        "ocurrida_en",
        "ultima_en",
        "escalada_en",
    )
    list_filter = ("estado", "tipo", "severidad", ("escalada_en", admin.EmptyFieldListFilter), "geocerca")
    search_fields = ("efectivo__apellido", "efectivo__codigo_interno", "geocerca__nombre")
    list_select_related = ("efectivo", "geocerca")
    date_hierarchy = "ocurrida_en"
    actions = ["reconocer", "resolver"]
    inlines = [AlertaNotaInline]

    def _aplicar(self, request, queryset, accion: str, hecho: str) -> None:
        n = 0
        desde = services.ACCIONES[accion][1]
        for alerta in queryset.filter(estado__in=desde):
            services.alerta_cambiar_estado(alerta_id=alerta.pk, usuario=request.user, accion=accion, nota="(admin)")
            n += 1
        self.message_user(request, f"{n} alerta(s) {hecho}.", messages.SUCCESS)

    @admin.action(description="Reconocer las alertas seleccionadas")
    def reconocer(self, request, queryset):
        self._aplicar(request, queryset, "reconocer", "reconocida(s)")

    @admin.action(description="Resolver las alertas seleccionadas")
    def resolver(self, request, queryset):
        self._aplicar(request, queryset, "resolver", "resuelta(s)")

    def has_change_permission(self, request, obj=None) -> bool:
        # Needed for the admin action; the change form itself stays read-only (all fields).
        return obj is None and request.user.is_staff

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
