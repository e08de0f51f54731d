from __future__ import annotations

from django.contrib import admin, messages

from gad_project import admin_base
from gad_project.admin_base import ConDescargas, SoloLecturaAdmin
from gad_project.exceptions import ErrorDominio
from mapa.admin_base import MapaAdmin
from tareas import services
from tareas.models import Asignacion, Tarea, TareaEvento


class AsignacionInline(SoloLecturaAdmin, admin.TabularInline):
    model = Asignacion
    extra = 0
    fields = ("efectivo", "estado", "distancia", "asignada_por", "asignada_en", "vence_en", "respondida_en", "motivo")
    readonly_fields = fields

    @admin.display(description="distancia", ordering="distancia_m")
    def distancia(self, obj: Asignacion) -> str:
        return admin_base.distancia(obj.distancia_m)


class TareaEventoInline(SoloLecturaAdmin, admin.TabularInline):
    model = TareaEvento
    extra = 0
    fields = ("ocurrido_en", "usuario", "estado_anterior", "estado_nuevo", "motivo")
    readonly_fields = fields


@admin.register(Tarea)
class TareaAdmin(ConDescargas, MapaAdmin):
    descargas_url = "exportes_tareas"
    descargas_formatos = ("csv", "geojson")
    list_display = (
        "codigo",
        "titulo",
        "tipo",
        "prioridad",
        "estado",
        "unidad",
        "requeridos",
        "corta_desde",
        "inicio_programado",
        "creada_en",
    )
    list_filter = ("estado", "prioridad", "tipo", "unidad", ("corta_desde", admin.EmptyFieldListFilter))
    actions = ["cancelar", "reabrir_busqueda"]
    search_fields = ("codigo", "titulo", "descripcion")
    list_select_related = ("unidad",)
    date_hierarchy = "creada_en"
    inlines = [AsignacionInline, TareaEventoInline]
    readonly_fields = (
        "codigo",
        "lugar",
        "estado",
        "inicio_real",
        "fin_real",
        "tiempo_pausado",
        "creada_por",
        "creada_en",
        "requeridos",
        "corta_desde",
        "reportante",
    )
    autocomplete_fields = ("delegado",)

    def get_readonly_fields(self, request, obj=None):
        # A task stays in its unidad, as in the API; its state moves only by the state machine.
        return (*self.readonly_fields, "unidad") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # tasks are cancelled, never deleted: their history is the record

    def _cada_una(self, request, queryset, hacer, hecho: str) -> None:
        """Each selected task through the same service as the map and the API; each refusal said."""
        bien = 0
        for tarea in queryset:
            try:
                hacer(tarea)
                bien += 1
            except ErrorDominio as exc:
                self.message_user(request, f"{tarea.codigo}: {exc.mensaje}", messages.ERROR)
        if bien:
            self.message_user(request, f"{bien} tarea(s) {hecho}.", messages.SUCCESS)

    @admin.action(description="Cancelar las tareas seleccionadas (libera a sus efectivos)")
    def cancelar(self, request, queryset):
        self._cada_una(
            request,
            queryset,
            lambda t: services.tarea_transicionar(
                tarea_id=t.pk, accion="cancelar", usuario=request.user, motivo="cancelada desde la administración"
            ),
            "canceladas",
        )

    @admin.action(description="Reabrir la búsqueda de efectivos (tareas sin cubrir)")
    def reabrir_busqueda(self, request, queryset):
        self._cada_una(
            request,
            queryset,
            lambda t: services.tarea_busqueda_reabrir(tarea_id=t.pk, usuario=request.user),
            "con la búsqueda reabierta",
        )

    def save_model(self, request, obj, form, change):
        if not change:
            services.tarea_crear_desde_instancia(tarea=obj, usuario=request.user)
            return
        cambios = {c: form.cleaned_data[c] for c in form.changed_data if c in services.CAMPOS_EDITABLES}
        ubicacion = form.cleaned_data.get("ubicacion") if "ubicacion" in form.changed_data else None
        try:
            services.tarea_actualizar(
                tarea_id=obj.pk,
                usuario=request.user,
                lat=ubicacion.y if ubicacion else None,
                lon=ubicacion.x if ubicacion else None,
                **cambios,
            )
        except ErrorDominio as exc:
            self.message_user(request, exc.mensaje, messages.ERROR)


@admin.register(Asignacion)
class AsignacionAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("tarea", "efectivo", "estado", "distancia", "asignada_por", "asignada_en", "vence_en", "motivo")
    list_filter = ("estado",)
    list_select_related = ("tarea", "efectivo", "asignada_por")
    actions = ["liberar"]

    @admin.display(description="distancia", ordering="distancia_m")
    def distancia(self, obj: Asignacion) -> str:
        return admin_base.distancia(obj.distancia_m)

    @admin.action(description="Liberar a los efectivos seleccionados de su tarea")
    def liberar(self, request, queryset):
        bien = 0
        for a in queryset.filter(estado__in=["pendiente", "aceptada"]):
            try:
                services.asignacion_liberar(
                    tarea_id=a.tarea_id,
                    efectivo_id=a.efectivo_id,
                    usuario=request.user,
                    motivo="desde la administración",
                )
                bien += 1
            except ErrorDominio as exc:
                self.message_user(request, f"{a.tarea}: {exc.mensaje}", messages.ERROR)
        if bien:
            self.message_user(request, f"{bien} efectivo(s) liberados.", messages.SUCCESS)

    search_fields = ("tarea__codigo", "efectivo__apellido", "efectivo__codigo_interno")
    list_select_related = ("tarea", "efectivo", "asignada_por")


@admin.register(TareaEvento)
class TareaEventoAdmin(SoloLecturaAdmin, admin.ModelAdmin):
    list_display = ("tarea", "estado_anterior", "estado_nuevo", "usuario", "motivo", "ocurrido_en")
    list_filter = ("estado_nuevo",)
    search_fields = ("tarea__codigo", "motivo")
    list_select_related = ("tarea", "usuario")
