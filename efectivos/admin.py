from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from auditoria import selectors as auditoria_selectors
from efectivos import services, turnos
from efectivos.models import Dispositivo, Efectivo, Posicion, TipoDispositivo, Turno, Unidad, Usuario
from efectivos.selectors import efectivos_visibles
from gad_project.admin_base import ConDescargas, descargas, descargas_html
from gad_project.exceptions import ErrorDominio
from mapa.admin_base import MapaAdmin, MapaSoloLecturaAdmin
from telegram_bot import services as telegram_services


@admin.register(Usuario)
class UsuarioAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "rol", "unidad", "vinculado_telegram", "is_active")
    list_filter = ("rol", "unidad", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("GRUPO_GAD", {"fields": ("rol", "unidad", "telegram_id")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("GRUPO_GAD", {"fields": ("rol", "unidad")}))
    readonly_fields = ("telegram_id", "last_login", "date_joined")

    actions = ["desactivar", "desvincular_telegram"]

    def get_deleted_objects(self, objs, request):
        """A user with an audit trail (as its actor or its subject) cannot be deleted: the trail is
        immutable and names them. The admin's delete page lists them as protected and says to
        deactivate them instead."""
        borrados, cuenta, permisos, protegidos = super().get_deleted_objects(objs, request)
        con_rastro = auditoria_selectors.usuarios_con_rastro(usuario_ids=[u.pk for u in objs])
        protegidos = list(protegidos) + [
            f"{u}: tiene registros de auditoría; desactívelo en lugar de borrarlo (acción «Desactivar»)."
            for u in objs
            if u.pk in con_rastro
        ]
        return borrados, cuenta, permisos, protegidos

    @admin.action(description="Desactivar (conserva su historial; corta su acceso al instante)")
    def desactivar(self, request, queryset):
        for usuario in queryset.filter(is_active=True):
            usuario.is_active = False
            usuario.save(update_fields=["is_active"])
            self.message_user(request, f"{usuario}: desactivado.", messages.SUCCESS)

    @admin.display(boolean=True, description="Telegram")
    def vinculado_telegram(self, obj: Usuario) -> bool:
        return obj.telegram_id is not None

    @admin.action(description="Desvincular Telegram")
    def desvincular_telegram(self, request, queryset):
        for usuario in queryset.filter(telegram_id__isnull=False):
            telegram_services.cuenta_desvincular(usuario=usuario)
            self.message_user(request, f"{usuario}: Telegram desvinculado.", messages.SUCCESS)


@admin.register(Unidad)
class UnidadAdmin(MapaAdmin):
    list_display = ("codigo", "nombre")
    search_fields = ("codigo", "nombre")


@admin.register(Efectivo)
class EfectivoAdmin(ConDescargas, MapaAdmin):
    descargas_url = "exportes_recorridos"
    descargas_formatos = ("gpx", "kml", "geojson", "csv")
    list_display = ("codigo_interno", "apellido", "nombre", "rango", "unidad", "estado", "ultima_posicion_en")
    list_filter = ("estado", "unidad", "rango")
    # The DNI is encrypted: found by its exact value (its blind index), never by a fragment.
    search_fields = ("codigo_interno", "=dni", "apellido", "nombre", "usuario__username")
    list_select_related = ("unidad",)
    autocomplete_fields = ("usuario",)
    # The last position comes only from stored readings (the ingest service).
    readonly_fields = ("posicion", "ultima_posicion_en", "ultima_precision_m", "actualizado_en", "recorrido")
    exclude = ("ultima_posicion",)
    list_per_page = 50
    actions = ["codigo_telegram"]

    class Media:  # the last position on the offline map (no editable geometry brings it)
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css", "css/fuentes.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js", "js/gis/base_ol.js")

    @admin.display(description="última posición")
    def posicion(self, obj: Efectivo) -> str:
        """On the offline map, not as WKT."""
        from django.utils.safestring import mark_safe

        from mapa.widgets import MapaWidget

        if obj.ultima_posicion is None:
            return "Sin posición"
        widget = MapaWidget(attrs={"geom_type": "POINT", "disabled": True})
        return mark_safe(widget.render("posicion_mapa", obj.ultima_posicion, attrs={"id": "id_posicion_mapa"}))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """An officer's record holds their personal data: opening it asks why, once per officer per
        session (auditoria.web.motivo_descarga), and records the read with the reason."""
        from urllib.parse import urlencode

        from django.shortcuts import redirect

        from auditoria.web import auditar_acceso, motivo_de_sesion

        efectivo = self.get_object(request, object_id)
        if efectivo is None or request.method != "GET":
            return super().change_view(request, object_id, form_url, extra_context)
        motivo = motivo_de_sesion(request, efectivo.pk)
        if motivo is None:
            return redirect(f"{reverse('admin_motivo')}?{urlencode({'siguiente': request.path})}")
        auditar_acceso(request, efectivo, "ficha del efectivo", **motivo.como_parametros())
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # Availability goes through the service: it publishes efectivo.estado (open maps, the bot)
        # and refuses to leave en_tarea behind a task's back.
        nuevo = obj.estado
        if change and "estado" in form.changed_data:
            obj.estado = form.initial["estado"]
        obj.save()
        if nuevo != obj.estado:
            try:
                services.efectivo_estado_cambiar(efectivo=obj, estado=nuevo)
            except ErrorDominio as exc:
                self.message_user(request, exc.mensaje, messages.ERROR)

    @admin.display(description="Recorrido (descargar)")
    def recorrido(self, obj: Efectivo) -> str:
        if obj.pk is None:
            return "—"
        return descargas_html(descargas(self.descargas_url, self.descargas_formatos, efectivo=obj.pk))

    @admin.action(description="Generar código de vinculación de Telegram")
    def codigo_telegram(self, request, queryset):
        for efectivo in queryset[:20]:
            try:
                nuevo = telegram_services.codigo_generar(efectivo_id=efectivo.pk, creado_por=request.user)
            except ErrorDominio as exc:
                self.message_user(request, f"{efectivo}: {exc.mensaje}", messages.ERROR)
                continue
            como = nuevo.enlace or f"enviar al bot: /start {nuevo.codigo}"
            self.message_user(
                request,
                f"{efectivo}: código {nuevo.codigo} ({como}); un solo uso, vence {timezone.localtime(nuevo.vence_en):%H:%M}.",
                messages.SUCCESS,
            )


@admin.register(Posicion)
class PosicionAdmin(MapaSoloLecturaAdmin):
    list_display = (
        "id",
        "efectivo",
        "registrada_en",
        "recibida_en",
        "precision_m",
        "velocidad_kmh",
        "fuente",
        "registrada_por",
    )
    list_filter = ("fuente",)
    search_fields = ("efectivo__codigo_interno", "efectivo__apellido", "id_cliente")
    list_select_related = ("efectivo",)
    date_hierarchy = "registrada_en"
    show_full_result_count = False  # the table is large: avoid COUNT(*) on every page


@admin.register(Dispositivo)
class DispositivoAdmin(admin.ModelAdmin):
    """Tracker devices. Adding one creates its credential, shown once in the confirmation message
    (only its hash is kept); a device is revoked, never edited or deleted."""

    list_display = (
        "__str__",
        "efectivo",
        "tipo",
        "usuario",
        "ultimo_contacto_en",
        "ultima_lectura_en",
        "bateria_pct",
        "ultimo_rechazo",
        "revocado_en",
    )
    list_filter = ("tipo", "efectivo__unidad")
    search_fields = ("etiqueta", "usuario", "efectivo__apellido", "efectivo__codigo_interno")
    autocomplete_fields = ("efectivo",)
    actions = ["revocar", "pedir_ubicacion"]
    readonly_fields = (
        "usuario",
        "creado_por",
        "creado_en",
        "revocado_en",
        "ultimo_contacto_en",
        "ultima_lectura_en",
        "bateria_pct",
        "cargando",
        "app",
        "ultimo_rechazo",
        "ultimo_rechazo_en",
        "ubicacion_pedida_en",
        "ubicacion_pedida_enviada_en",
    )

    def get_fields(self, request, obj=None):
        return (
            ("efectivo", "tipo", "etiqueta") if obj is None else ("efectivo", "tipo", "etiqueta", *self.readonly_fields)
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("efectivo", "tipo", *self.readonly_fields)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        creado, secreto = services.dispositivo_crear(
            efectivo=obj.efectivo, tipo=obj.tipo, etiqueta=obj.etiqueta, creado_por=request.user
        )
        obj.pk = creado.pk
        obj.__dict__.update(creado.__dict__)
        if creado.tipo == TipoDispositivo.TRACCAR:
            texto = f"Identificador del dispositivo (Traccar Client): {secreto}"
        else:
            texto = f"OwnTracks, modo HTTP: usuario {creado.usuario}, contraseña {secreto}"
        self.message_user(request, f"{texto}. Se muestra una sola vez: cópielo ahora.", messages.WARNING)

    @admin.action(description="Revocar (corta sus envíos al instante)")
    def revocar(self, request, queryset):
        for dispositivo in queryset.filter(revocado_en__isnull=True):
            services.dispositivo_revocar(dispositivo=dispositivo)
            self.message_user(request, f"{dispositivo}: revocado.", messages.SUCCESS)

    @admin.action(description="Pedir su ubicación ahora (OwnTracks)")
    def pedir_ubicacion(self, request, queryset):
        for dispositivo in queryset.filter(tipo=TipoDispositivo.OWNTRACKS, revocado_en__isnull=True):
            services.dispositivo_ubicacion_pedir(dispositivo=dispositivo)
            self.message_user(
                request, f"{dispositivo}: se le pedirá la ubicación en su próximo envío.", messages.SUCCESS
            )


class TurnoImportarForm(forms.Form):
    archivo = forms.FileField(
        label="Archivo CSV",
        help_text="Columnas: codigo_interno,inicio,fin,funcion — horas dd/mm/aaaa hh:mm (hora de Buenos Aires) o ISO 8601.",
    )


@admin.register(Turno)
class TurnoAdmin(admin.ModelAdmin):
    """The roster. A commander sees and edits their unidad's shifts only; "Importar CSV" loads a
    whole roster at once (all or nothing)."""

    list_display = ("efectivo", "inicio", "fin", "funcion", "inicio_real", "fin_real")
    list_filter = ("efectivo__unidad",)
    search_fields = ("efectivo__codigo_interno", "efectivo__apellido", "funcion")
    date_hierarchy = "inicio"
    autocomplete_fields = ("efectivo",)
    readonly_fields = ("inicio_real", "fin_real", "creado_por")
    change_list_template = "admin/efectivos/turno/change_list.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("efectivo")
        return qs.filter(efectivo__in=efectivos_visibles(usuario=request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "efectivo":
            kwargs["queryset"] = efectivos_visibles(usuario=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.creado_por = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path("importar/", self.admin_site.admin_view(self.importar), name="efectivos_turno_importar"),
            *super().get_urls(),
        ]

    def importar(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TurnoImportarForm(request.POST or None, request.FILES or None)
        errores: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                hecho = turnos.turnos_importar(contenido=form.cleaned_data["archivo"].read(), usuario=request.user)
            except ErrorDominio as exc:
                errores = [exc.mensaje, *((exc.detalle or {}).get("errores") or [])]
            else:
                self.message_user(request, f"{hecho.creados} turnos cargados.", messages.SUCCESS)
                return redirect("admin:efectivos_turno_changelist")
        contexto = {
            **self.admin_site.each_context(request),
            "title": "Importar turnos (CSV)",
            "form": form,
            "errores": errores,
            "opts": self.model._meta,
        }
        return render(request, "admin/efectivos/turno/importar.html", contexto)
