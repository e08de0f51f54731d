from __future__ import annotations

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse

from tests.conftest import motivo_en_sesion

pytestmark = pytest.mark.django_db

MODELOS = [m for m in django_admin.site._registry if m._meta.app_label != "auth"]


def _url(modelo, vista: str) -> str:
    return reverse(f"admin:{modelo._meta.app_label}_{modelo._meta.model_name}_{vista}")


def test_todos_los_modelos_del_dominio_estan_en_el_admin():
    nombres = {m.__name__ for m in MODELOS}
    assert {
        "Usuario",
        "Unidad",
        "Efectivo",
        "Posicion",
        "Geocerca",
        "Presencia",
        "Alerta",
        "Tarea",
        "Asignacion",
        "TareaEvento",
        "Evento",
        "CodigoVinculacion",
        "Notificacion",
        "Mensaje",
        "ControlBienestar",
    } <= nombres


@pytest.mark.parametrize("modelo", MODELOS, ids=lambda m: m.__name__)
def test_el_listado_carga_para_el_admin(client, admin, modelo):
    client.force_login(admin)
    assert client.get(_url(modelo, "changelist")).status_code == 200


@pytest.mark.parametrize("modelo", MODELOS, ids=lambda m: m.__name__)
def test_el_alta_carga_si_el_modelo_se_edita_y_se_niega_si_es_historial(client, admin, modelo, rf):
    client.force_login(admin)
    request = rf.get("/")
    request.user = admin
    editable = django_admin.site._registry[modelo].has_add_permission(request)
    assert client.get(_url(modelo, "add")).status_code == (200 if editable else 403)


@pytest.mark.parametrize("persona", ["comandante_a", "efectivo", "ajeno"])
@pytest.mark.parametrize("modelo", MODELOS, ids=lambda m: m.__name__)
def test_el_admin_se_niega_a_quien_no_es_administrador(client, request, persona, modelo):
    usuario = request.getfixturevalue(persona)
    usuario = getattr(usuario, "usuario", usuario)
    client.force_login(usuario)
    for vista in ("changelist", "add"):
        respuesta = client.get(_url(modelo, vista))
        assert respuesta.status_code == 302
        assert respuesta["Location"].startswith("/admin/login/")


def test_el_mapa_de_geocercas_usa_openlayers_local(client, admin):
    client.force_login(admin)
    html = client.get(reverse("admin:geocercas_geocerca_add")).content.decode()
    assert "/static/vendor/ol/ol.js" in html
    assert "cdn.jsdelivr" not in html
    assert "ol.source.OSM" not in html


def test_el_admin_habla_castellano_aunque_el_navegador_pida_ingles(client, admin):
    client.force_login(admin)
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="es-ar"' in html
    assert "Cerrar sesión" in html


@pytest.mark.parametrize(
    "ruta", ["/static/vendor/ol/ol.js", "/static/vendor/ol/ol.css", "/static/gis/js/OLMapWidget.js"]
)
def test_los_recursos_del_mapa_se_sirven_localmente(client, ruta):
    respuesta = client.get(ruta)
    assert respuesta.status_code == 200
    contenido = b"".join(respuesta.streaming_content) if respuesta.streaming else respuesta.content
    assert len(contenido) > 1000


def _formulario_efectivo(efectivo, **cambios) -> dict:
    datos = {
        "codigo_interno": efectivo.codigo_interno,
        "dni": efectivo.dni,
        "nombre": efectivo.nombre,
        "apellido": efectivo.apellido,
        "rango": efectivo.rango,
        "unidad": efectivo.unidad_id,
        "especialidades": ",".join(efectivo.especialidades),
        "estado": efectivo.estado,
        "usuario": efectivo.usuario_id or "",
    }
    return {**datos, **cambios}


def test_cambiar_el_estado_en_el_admin_publica_el_evento(client, admin, efectivo):
    from realtime.models import Evento

    client.force_login(admin)
    url = reverse("admin:efectivos_efectivo_change", args=[efectivo.pk])
    r = client.post(url, _formulario_efectivo(efectivo, estado="fuera_servicio"))
    assert r.status_code == 302, r.content.decode()[:2000]
    efectivo.refresh_from_db()
    assert efectivo.estado == "fuera_servicio"
    evento = Evento.objects.get(tipo="efectivo.estado")
    assert evento.datos == {
        "efectivo_id": efectivo.pk,
        "unidad_id": efectivo.unidad_id,
        "anterior": "disponible",
        "estado": "fuera_servicio",
    }


def test_el_admin_no_saca_de_en_tarea_a_un_efectivo_con_tarea(client, admin, efectivo):
    from realtime.models import Evento

    efectivo.estado = "en_tarea"
    efectivo.save()
    client.force_login(admin)
    url = reverse("admin:efectivos_efectivo_change", args=[efectivo.pk])
    r = client.post(url, _formulario_efectivo(efectivo, estado="disponible"), follow=True)
    efectivo.refresh_from_db()
    assert efectivo.estado == "en_tarea"
    assert "Tiene una tarea asignada" in r.content.decode()
    assert not Evento.objects.filter(tipo="efectivo.estado").exists()


def test_la_ultima_posicion_no_se_edita_en_el_admin(client, admin, efectivo):
    client.force_login(admin)
    motivo_en_sesion(client, efectivo)
    html = client.get(reverse("admin:efectivos_efectivo_change", args=[efectivo.pk])).content.decode()
    assert 'name="ultima_posicion"' not in html


def test_lo_que_el_admin_muestra_se_lee(client, admin, efectivo):
    """Names, not "TareaEvento object (76)"; distances rounded; a position on the map, not WKT;
    SimpleJWT's section in Spanish."""
    from django.contrib.gis.geos import Point

    from tareas.models import Asignacion, TareaEvento
    from tests.factories import TareaFactory

    tarea = TareaFactory(unidad=efectivo.unidad)
    asignacion = Asignacion.objects.create(tarea=tarea, efectivo=efectivo, distancia_m=216.20494724)
    evento = TareaEvento.objects.create(tarea=tarea, estado_anterior="", estado_nuevo="asignada")
    assert str(asignacion) == f"{tarea.codigo} → {efectivo.codigo_interno} · Pendiente"
    assert str(evento).startswith(f"{tarea.codigo} · nueva → Asignada · ")
    client.force_login(admin)
    html = client.get(reverse("admin:tareas_asignacion_changelist")).content.decode()
    assert "216 m" in html and "216,20" not in html and "216.20" not in html
    html = client.get(reverse("admin:tareas_tareaevento_changelist")).content.decode()
    assert "object (" not in html
    html = client.get(reverse("admin:index")).content.decode()
    assert "Sesiones de la API" in html and "Tokens revocados" in html and "Blacklisted" not in html
    efectivo.ultima_posicion = Point(-58.3816, -34.6037, srid=4326)
    efectivo.save()
    motivo_en_sesion(client, efectivo)
    html = client.get(reverse("admin:efectivos_efectivo_change", args=[efectivo.pk])).content.decode()
    assert "POINT" not in html and 'id="id_posicion_mapa"' in html and "ol.js" in html


def test_una_tarea_no_se_borra_ni_cambia_de_unidad_en_el_admin(client, admin):
    from tests.factories import TareaFactory

    tarea = TareaFactory()
    client.force_login(admin)
    assert client.get(reverse("admin:tareas_tarea_delete", args=[tarea.pk])).status_code == 403
    html = client.get(reverse("admin:tareas_tarea_change", args=[tarea.pk])).content.decode()
    assert 'name="unidad"' not in html


def test_el_detalle_de_una_alerta_se_lee_con_nombres_hora_local_y_mapa(client, admin):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.factories import AlertaFactory, GeocercaFactory, PosicionFactory

    alerta = AlertaFactory(
        geocerca=GeocercaFactory(nombre="Perímetro Norte"),
        ocurrida_en=datetime(2026, 12, 2, 20, 21, tzinfo=ZoneInfo("UTC")),
    )
    client.force_login(admin)
    html = client.get(reverse("admin:geocercas_alerta_change", args=[alerta.pk])).content.decode()
    titulo = f"Entrada · Perímetro Norte · {alerta.efectivo} · 02/12 17:21"  # 20:21 UTC is 17:21 here
    assert f"<h2>{titulo}</h2>" in html  # the heading of the record, not "Entrada · 10 · 205"
    assert 'id="id_punto_mapa"' in html and "/static/js/gis/base_ol.js" in html  # on the map...
    assert "POINT (" not in html  # ...not as WKT
    listado = client.get(reverse("admin:geocercas_alerta_changelist")).content.decode()
    assert "Sí: nadie la reconoció a tiempo" in listado and "No vacío" not in listado
    posicion = PosicionFactory(
        efectivo=alerta.efectivo, registrada_en=datetime(2026, 12, 2, 20, 21, 5, tzinfo=ZoneInfo("UTC"))
    )
    assert str(posicion).endswith("@ 02/12/2026 17:21:05")


def _enlaces(html: str) -> list[str]:
    """The export links of a page: direct downloads, and those of people's data that go through
    the reason form first (the export they lead to, with a reason given)."""
    import html as html_mod
    import re
    from urllib.parse import parse_qs, urlsplit

    directos = [html_mod.unescape(h) for h in re.findall(r'href="(/api/v1/exportes/[^"]+)" download', html)]
    con_motivo = [
        parse_qs(urlsplit(html_mod.unescape(h)).query)["siguiente"][0] + "&motivo=supervision"
        for h in re.findall(r'href="(/admin/motivo/\?siguiente=[^"]+)"', html)
    ]
    return directos + con_motivo


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume")
def test_el_admin_descarga_el_recorrido_de_un_efectivo_y_las_alertas_tareas_y_geocercas(client, admin, efectivo):
    import uuid

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from efectivos.models import Posicion
    from tests.factories import CENTRO, GeocercaFactory

    Posicion.objects.create(
        efectivo=efectivo,
        punto=Point(*CENTRO, srid=4326),
        registrada_en=timezone.now(),
        recibida_en=timezone.now(),
        fuente="api",
        id_cliente=uuid.uuid4(),
    )
    GeocercaFactory(nombre="Perímetro Casa Rosada")
    client.force_login(admin)
    motivo_en_sesion(client, efectivo)
    ficha = client.get(reverse("admin:efectivos_efectivo_change", args=[efectivo.pk]))
    enlaces = _enlaces(ficha.content.decode())
    assert len(enlaces) == 12  # 3 windows × GPX, KML, GeoJSON, CSV
    gpx = next(u for u in enlaces if "formato=gpx" in u and f"efectivo={efectivo.pk}" in u)
    r = client.get(gpx)
    cuerpo = b"".join(r) if r.streaming else r.content
    assert r.status_code == 200 and b"<trkpt" in cuerpo and b"<gpx" in cuerpo

    for modelo, formato, esperado in (
        ("geocercas_alerta", "csv", b"id,"),
        ("tareas_tarea", "geojson", b'"FeatureCollection"'),
        ("geocercas_geocerca", "kml", "Perímetro Casa Rosada".encode()),
        ("efectivos_efectivo", "csv", efectivo.codigo_interno.encode()),
    ):
        lista = client.get(reverse(f"admin:{modelo}_changelist"))
        enlaces = _enlaces(lista.content.decode())
        assert enlaces, modelo
        url = next(u for u in enlaces if f"formato={formato}" in u)
        r = client.get(url)
        cuerpo = b"".join(r) if r.streaming else r.content
        assert r.status_code == 200 and esperado in cuerpo, (modelo, cuerpo[:200])


def test_borrar_un_usuario_con_rastro_de_auditoria_ofrece_desactivarlo_y_no_falla(client, admin, comandante_a):
    from auditoria.models import Registro

    assert Registro.objects.filter(content_type__model="usuario", object_id=comandante_a.pk).exists()
    client.force_login(admin)
    r = client.get(f"/admin/efectivos/usuario/{comandante_a.pk}/delete/")
    assert r.status_code == 200
    assert "desactívelo en lugar de borrarlo" in r.content.decode()
    r = client.post(f"/admin/efectivos/usuario/{comandante_a.pk}/delete/", {"post": "yes"})
    assert r.status_code in (200, 403)
    assert type(comandante_a).objects.filter(pk=comandante_a.pk).exists()
    r = client.post(
        "/admin/efectivos/usuario/", {"action": "desactivar", "_selected_action": [comandante_a.pk]}, follow=True
    )
    assert r.status_code == 200
    comandante_a.refresh_from_db()
    assert comandante_a.is_active is False
