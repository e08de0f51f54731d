from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.gis.geos import LineString
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from gad_project.admin_base import ConDescargas, SoloLecturaAdmin
from gad_project.exceptions import EntradaInvalida
from geocercas import formatos, services
from geocercas.models import Alerta, AlertaNota, Geocerca, Presencia, TipoGeocerca
from mapa.admin_base import MapaAdmin, MapaSoloLecturaAdmin

_DIAS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")


class GeocercaAdminForm(forms.ModelForm):
    """The fence's form, plus importing its shape from a GeoJSON or KML file or pasted text (what
    is imported replaces what is drawn; a LineString is a corridor's route)."""

    importar_archivo = forms.FileField(
        label="Importar archivo", required=False, help_text="GeoJSON (.geojson, .json) o KML (.kml), hasta 5 MB."
    )
    importar_texto = forms.CharField(
        label="O pegar GeoJSON / KML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80, "spellcheck": "false"}),
    )

    class Meta:
        model = Geocerca
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin lays out the fields; the form adds the import

    def _validar(self, campo: str):
        # A drawn shape goes through the same rules as the API's and an import's.
        geom = self.cleaned_data.get(campo)
        if geom is None:
            return geom
        try:
            return formatos.geometria_validar(geom)
        except EntradaInvalida as exc:
            raise forms.ValidationError(exc.mensaje) from exc

    def clean_geom(self):
        return self._validar("geom")

    def clean_ruta(self):
        return self._validar("ruta")

    def clean(self):
        datos = super().clean()
        if datos.get("tarea") and datos.get("efectivos"):
            raise forms.ValidationError(
                "Una geocerca se aplica a los asignados de una tarea o a efectivos elegidos, no a ambos."
            )
        archivo, texto = datos.get("importar_archivo"), (datos.get("importar_texto") or "").strip()
        if not archivo and not texto:
            return datos
        campo = "importar_archivo" if archivo else "importar_texto"
        try:
            if archivo:
                if archivo.size > formatos.TAMANO_MAX:
                    raise EntradaInvalida(f"El archivo supera {formatos.TAMANO_MAX // (1024 * 1024)} MB.")
                geom = formatos.leer(archivo.read(), archivo.name)
            else:
                geom = formatos.leer(texto)
        except EntradaInvalida as exc:
            self.add_error(campo, exc.mensaje)
            return datos
        if isinstance(geom, LineString):
            if datos.get("tipo") != TipoGeocerca.CORREDOR:
                self.add_error(campo, "Una línea solo sirve como ruta de un corredor: elija el tipo «Corredor».")
                return datos
            datos["ruta"] = geom
        else:
            datos["geom"] = geom
        self.errors.pop("geom", None)
        return datos


@admin.register(Geocerca)
class GeocercaAdmin(ConDescargas, MapaAdmin):
    descargas_url = "exportes_geocercas"
    descargas_formatos = ("geojson", "kml")
    descargas_ventanas = False
    form = GeocercaAdminForm
    list_display = (
        "nombre",
        "tipo",
        "severidad",
        "activa",
        "vigente",
        "histeresis_m",
        "permanencia_min_s",
        "confirmar_lecturas",
        "version",
    )
    list_filter = ("tipo", "activa", "severidad", "unidades")
    search_fields = ("nombre", "descripcion")
    filter_horizontal = ("unidades",)
    autocomplete_fields = ("efectivos", "tarea", "notificar_a")
    readonly_fields = ("exportar", "vigente", "silencio", "version", "creada_en", "actualizada_en")

    @admin.display(description="Silencio")
    def silencio(self, obj: Geocerca) -> str:
        if obj.silenciada_hasta is None or obj.silenciada_hasta <= timezone.now():
            return "No"
        hasta = timezone.localtime(obj.silenciada_hasta)
        return f"Hasta las {hasta:%H:%M}, por {obj.silenciada_por}: {obj.silencio_motivo}"

    @admin.display(description="Rige ahora")
    def vigente(self, obj: Geocerca) -> str:
        """In force now, or out of its schedule and since/until when (local time)."""
        ahora = timezone.now()
        cambio = obj.vigencia_cambia_en(ahora)
        cuando = ""
        if cambio is not None:
            local = timezone.localtime(cambio)
            cuando = f"{_DIAS[local.weekday()]} {local:%H:%M}"
        if obj.vigente_en(ahora):
            return "Sí" + (f" · hasta el {cuando}" if cuando else "")
        if not obj.activa:
            return "No (inactiva)"
        return "Fuera de horario" + (f" · desde el {cuando}" if cuando else "")

    @admin.display(description="Exportar")
    def exportar(self, obj: Geocerca) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">GeoJSON</a> · <a href="{}">KML</a>',
            reverse("admin:geocercas_geocerca_exportar", args=[obj.pk, "geojson"]),
            reverse("admin:geocercas_geocerca_exportar", args=[obj.pk, "kml"]),
        )

    def get_urls(self):
        propias = [
            path(
                "<int:pk>/exportar.<str:formato>",
                self.admin_site.admin_view(self.exportar_vista),
                name="geocercas_geocerca_exportar",
            )
        ]
        return propias + super().get_urls()

    def exportar_vista(self, request, pk: int, formato: str) -> HttpResponse:
        geocerca = get_object_or_404(Geocerca, pk=pk)
        if not self.has_view_permission(request, geocerca) or formato not in ("geojson", "kml"):
            return HttpResponse(status=404)
        if formato == "kml":
            cuerpo, tipo = formatos.a_kml(geocerca), "application/vnd.google-earth.kml+xml"
        else:
            cuerpo, tipo = formatos.a_geojson(geocerca), "application/geo+json"
        nombre = f"geocerca-{geocerca.pk}.{formato}"
        return HttpResponse(
            cuerpo, content_type=tipo, headers={"Content-Disposition": f'attachment; filename="{nombre}"'}
        )

    def save_model(self, request, obj, form, change):
        # Version bump, cache invalidation and the event belong to the service, which also sets the
        # unidades: the event must name the fence's audience after they are saved.
        services.geocerca_guardar(
            geocerca=obj,
            unidades=[u.pk for u in form.cleaned_data.get("unidades", [])],
            efectivos=[e.pk for e in form.cleaned_data.get("efectivos", [])],
            notificar_a=[u.pk for u in form.cleaned_data.get("notificar_a", [])],
            usuario=request.user,
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


class EscaladaFiltro(admin.SimpleListFilter):
    title = "escalada"
    parameter_name = "escalada"

    def lookups(self, request, model_admin):
        return [("si", "Sí: nadie la reconoció a tiempo"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "si":
            return queryset.filter(escalada_en__isnull=False)
        if self.value() == "no":
            return queryset.filter(escalada_en__isnull=True)
        return queryset


@admin.register(Alerta)
class AlertaAdmin(ConDescargas, MapaSoloLecturaAdmin):
    descargas_url = "exportes_alertas"
    descargas_formatos = ("csv", "geojson")
    list_display = (
        "id",
        "tipo",
        "severidad",
        "estado",
        "repeticiones",
        "efectivo",
        "geocerca",
        "lugar",
        "ocurrida_en",
        "ultima_en",
        "escalada_en",
    )
    list_filter = ("estado", "tipo", "severidad", EscaladaFiltro, "geocerca")
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
