"""A unidad's report: every figure checked against values computed by hand on fixed data."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from auditoria.models import Registro
from efectivos.models import Efectivo, Posicion, Turno
from geocercas.models import Alerta
from reportes.selectors import reporte_unidad
from seguridad.models import SinReporte
from tareas.models import Asignacion, Tarea
from tests.factories import CENTRO, AlertaFactory, EfectivoFactory, GeocercaFactory, TareaFactory, desplazar

pytestmark = pytest.mark.django_db


@pytest.fixture
def turno(unidad_a, unidad_b):
    """Eight hours starting on the hour (local time), and what happened in them."""
    t0 = timezone.localtime().replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)
    h = timedelta(hours=1)
    e1, e2 = EfectivoFactory(unidad=unidad_a, turno=False), EfectivoFactory(unidad=unidad_a, turno=False)
    ajeno = EfectivoFactory(unidad=unidad_b)
    # The roster: e1's shift covers the whole period but they signed off at 5 h; e2's starts at 4 h
    # and they signed on at 3 h. (Their availability states tell another story: 6 h and 4 h.)
    Turno.objects.create(efectivo=e1, inicio=t0 - h, fin=t0 + 8 * h, inicio_real=t0 - h, fin_real=t0 + 5 * h)
    Turno.objects.create(efectivo=e2, inicio=t0 + 4 * h, fin=t0 + 12 * h, inicio_real=t0 + 3 * h)

    def tarea(tipo, estado, creada, fin=None, unidad=unidad_a):
        t = TareaFactory(unidad=unidad, tipo=tipo)
        Tarea.objects.filter(pk=t.pk).update(estado=estado, creada_en=creada, fin_real=fin)
        return t

    t1 = tarea("patrullaje", "finalizada", t0 + h, t0 + 3 * h)  # 7,200 s
    tarea("patrullaje", "programada", t0 + 2 * h)
    tarea("emergencia", "finalizada", t0 + 2 * h, t0 + 2 * h + timedelta(minutes=30))  # 1,800 s
    tarea("patrullaje", "finalizada", t0 - h, t0 + h)  # created before the shift: not counted
    tarea("patrullaje", "programada", t0 + h, unidad=unidad_b)  # another unidad

    def asignacion(estado, respuesta_s=None, llegada_s=None, efectivo=e1):
        a = Asignacion.objects.create(tarea=t1, efectivo=efectivo, estado=estado)
        asignada = t0 + h
        Asignacion.objects.filter(pk=a.pk).update(
            asignada_en=asignada,
            respondida_en=asignada + timedelta(seconds=respuesta_s) if respuesta_s is not None else None,
            llegada_en=asignada + timedelta(seconds=llegada_s) if llegada_s is not None else None,
        )

    asignacion("liberada", 60, 600)
    asignacion("aceptada", 180, 1200, efectivo=e2)
    asignacion("rechazada", 30, efectivo=ajeno)  # of a task of this unidad: counted
    asignacion("pendiente", efectivo=EfectivoFactory(unidad=unidad_a))

    casa = GeocercaFactory(nombre="Casa de Gobierno")
    borde = GeocercaFactory(nombre="Borde")

    def alerta(
        geocerca, tipo, ocurrida, reconocer_s=None, repeticiones=1, escalada=False, efectivo=e1, estado="pendiente"
    ):
        a = AlertaFactory(geocerca=geocerca, tipo=tipo, efectivo=efectivo, severidad="critica", estado=estado)
        Alerta.objects.filter(pk=a.pk).update(
            ocurrida_en=ocurrida,
            reconocida_en=ocurrida + timedelta(seconds=reconocer_s) if reconocer_s else None,
            repeticiones=repeticiones,
            escalada_en=ocurrida + timedelta(minutes=5) if escalada else None,
        )

    alerta(casa, "entrada", t0 + h + timedelta(minutes=5), 60, estado="resuelta")  # then it entered again
    alerta(casa, "entrada", t0 + h + timedelta(minutes=40), 180, repeticiones=3, escalada=True)
    alerta(borde, "salida", t0 + 5 * h + timedelta(minutes=1))
    alerta(borde, "salida", t0 + 5 * h, efectivo=ajeno)  # another unidad's efectivo

    puntos = [desplazar(*CENTRO, este_m=m) for m in (0, 100, 200)]
    filas = [
        Posicion(
            efectivo=e1,
            punto=Point(*p, srid=4326),
            registrada_en=t0 + h + timedelta(minutes=i),
            recibida_en=t0,
            fuente="api",
            id_cliente=uuid.uuid4(),
        )
        for i, p in enumerate(puntos)
    ]
    filas.append(
        Posicion(
            efectivo=e1,
            punto=Point(*desplazar(*CENTRO, este_m=50_000), srid=4326),
            registrada_en=t0 + h + timedelta(minutes=1, seconds=30),
            recibida_en=t0,
            fuente="api",
            id_cliente=uuid.uuid4(),
            implausible=True,
        )
    )
    filas.append(
        Posicion(
            efectivo=ajeno,
            punto=Point(*CENTRO, srid=4326),
            registrada_en=t0 + h,
            recibida_en=t0,
            fuente="api",
            id_cliente=uuid.uuid4(),
        )
    )
    Posicion.objects.bulk_create(filas)

    SinReporte.objects.create(
        efectivo=e1, ultima_posicion_en=t0, creado_en=t0 + 2 * h, cerrado_en=t0 + 3 * h + timedelta(minutes=30)
    )
    SinReporte.objects.create(
        efectivo=e2, ultima_posicion_en=t0 - h, creado_en=t0 - h, cerrado_en=t0 + timedelta(minutes=30)
    )

    # Availability changes, as the audit trail records them (through any interface).
    tipo = ContentType.objects.get_for_model(Efectivo)

    def cambio(efectivo, en, antes, despues):
        Registro.objects.create(
            content_type=tipo,
            object_pk=str(efectivo.pk),
            object_id=efectivo.pk,
            object_repr=str(efectivo),
            action=Registro.Action.UPDATE,
            changes={"estado": [antes, despues]},
            timestamp=en,
        )

    cambio(e1, t0 + h, "disponible", "en_tarea")
    cambio(e1, t0 + 3 * h, "en_tarea", "disponible")
    cambio(e1, t0 + 6 * h, "disponible", "fuera_servicio")
    cambio(e2, t0 - h, "disponible", "no_disponible")  # before the shift: its state at the start
    cambio(e2, t0 + 4 * h, "no_disponible", "disponible")
    cambio(ajeno, t0 + h, "disponible", "fuera_servicio")  # another unidad
    return {"t0": t0, "desde": t0, "hasta": t0 + 8 * h, "e1": e1, "e2": e2}


def test_las_cifras_del_turno(turno, unidad_a):
    r = reporte_unidad(unidad_id=unidad_a.pk, desde=turno["desde"], hasta=turno["hasta"])
    assert r.tareas == [
        ("emergencia", "finalizada", 1),
        ("patrullaje", "finalizada", 1),
        ("patrullaje", "programada", 1),
    ]
    assert r.finalizar == {"finalizadas": 2, "p50_s": 4500.0, "p90_s": 6660.0}
    a = r.asignaciones
    assert (a["total"], a["aceptadas"], a["rechazadas"], a["exito"]) == (4, 2, 1, 0.5)
    assert (a["aceptar_p50_s"], a["aceptar_p90_s"]) == (120.0, 168.0)
    assert (a["llegadas"], a["llegar_p50_s"], a["llegar_p90_s"]) == (2, 900.0, 1140.0)
    assert sorted(r.respuestas_s) == [60.0, 180.0]
    casa, borde = r.alertas
    assert casa == {
        "geocerca": "Casa de Gobierno",
        "tipo": "entrada",
        "alertas": 2,
        "repeticiones": 4,
        "reconocidas": 2,
        "reconocer_p50_s": 120.0,
        "reconocer_p90_s": 168.0,
        "escaladas": 1,
    }
    assert (borde["geocerca"], borde["alertas"], borde["reconocidas"], borde["reconocer_p50_s"]) == (
        "Borde",
        1,
        0,
        None,
    )
    por_hora = dict(r.alertas_por_hora)
    t0 = timezone.localtime(turno["t0"]).replace(tzinfo=None)
    assert len(r.alertas_por_hora) == 8
    assert (
        por_hora[t0 + timedelta(hours=1)] == 2
        and por_hora[t0 + timedelta(hours=5)] == 1
        and sum(por_hora.values()) == 3
    )
    [d] = r.distancias
    assert d["efectivo_id"] == turno["e1"].pk and d["lecturas"] == 3 and d["km"] == pytest.approx(0.2, abs=0.001)
    assert r.sin_reporte == {"avisos": 2, "efectivos": 2, "horas": pytest.approx(2.0)}
    # Hours on duty come from the roster and sign-on/off: e1 5 h (signed off at 5 h), e2 5 h
    # (signed on at 3 h), the third (a shift around now) all 8 h; on a task, from the states: e1 2 h.
    servicio = {s["efectivo_id"]: s for s in r.servicio}
    assert len(servicio) == 3
    s1, s2 = servicio[turno["e1"].pk], servicio[turno["e2"].pk]
    assert (s1["horas_servicio"], s1["horas_en_tarea"], s1["horas_fuera"]) == pytest.approx((5.0, 2.0, 3.0))
    assert (s1["lecturas"], s1["km"]) == (3, pytest.approx(0.2, abs=0.001))
    assert (s2["horas_servicio"], s2["horas_en_tarea"], s2["horas_fuera"], s2["lecturas"]) == pytest.approx(
        (5.0, 0.0, 3.0, 0)
    )
    [tercero] = [s for i, s in servicio.items() if i not in (turno["e1"].pk, turno["e2"].pk)]
    assert tercero["horas_servicio"] == pytest.approx(8.0)


def test_la_pagina_se_lee_y_se_descarga_en_csv(turno, comandante_a, unidad_a):
    c = Client()
    c.force_login(comandante_a)
    desde, hasta = turno["desde"].isoformat(), turno["hasta"].isoformat()
    r = c.get("/reportes/", {"desde": desde, "hasta": hasta})
    assert r.status_code == 200
    html = r.content.decode()
    assert f"Reporte de {unidad_a.codigo}" in html
    assert '<strong id="c-tareas">3</strong>' in html
    assert (
        '<strong id="c-exito">50 %</strong>' in html and '<strong id="c-km">0,2 km</strong>' in html
    )  # es-AR decimal comma
    assert html.count("<svg") >= 4  # three charts and the alerts' map, drawn server-side
    assert "cdn" not in html.lower() and "kozea.github.io" not in html

    # The figures, and each table as a CSV file that opens as a spreadsheet: a header, a row each.
    def tabla(nombre: str | None) -> list[dict[str, str]]:
        consulta = {"desde": desde, "hasta": hasta, "formato": "csv"} | ({"tabla": nombre} if nombre else {})
        r = c.get("/reportes/", consulta)
        assert r.status_code == 200 and r["Content-Disposition"].endswith(f'-{nombre or "resumen"}.csv"')
        return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))

    resumen = {f["indicador"]: f["valor"] for f in tabla(None)}
    assert (resumen["asignaciones_exito"], resumen["finalizar_p50_s"], resumen["tareas_creadas"]) == (
        "0.5",
        "4500.0",
        "3",
    )
    e1 = turno["e1"]
    [fila] = [f for f in tabla("efectivos") if f["codigo"] == e1.codigo_interno]
    assert fila == {
        "codigo": e1.codigo_interno,
        "efectivo": f"{e1.apellido}, {e1.nombre}",
        "horas_en_servicio": "5.0",
        "horas_en_tarea": "2.0",
        "horas_fuera_de_servicio": "3.0",
        "lecturas": "3",
        "km": "0.2",
    }
    assert sum(int(f["cantidad"]) for f in tabla("tareas")) == 3
    consulta = {"desde": desde, "hasta": hasta, "formato": "csv", "tabla": "alertas"}
    encabezado = next(csv.reader(io.StringIO(c.get("/reportes/", consulta).content.decode("utf-8-sig"))))
    assert encabezado[:4] == ["geocerca", "tipo", "alertas", "repeticiones"]
    assert c.get("/reportes/", {"formato": "csv", "tabla": "todo"}).status_code == 400
    assert f'href="?desde={desde[:4]}' in html and "tabla=efectivos" in html


def test_el_pdf_se_dibuja_en_el_servidor_con_las_mismas_cifras(turno, comandante_a, unidad_a):
    c = Client()
    c.force_login(comandante_a)
    desde, hasta = turno["desde"].isoformat(), turno["hasta"].isoformat()
    r = c.get("/reportes/", {"desde": desde, "hasta": hasta, "formato": "pdf"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith(f'attachment; filename="reporte-{unidad_a.codigo}-')
    pdf = PdfReader(io.BytesIO(r.content))
    assert pdf.pages[0].mediabox.width == pytest.approx(595, abs=1)  # A4, portrait
    texto = " ".join(p.extract_text() for p in pdf.pages)
    assert f"Reporte de {unidad_a.codigo}" in texto
    assert "50 %" in texto and "0,2 km" in texto and "18,0 h" in texto  # 5 + 5 + 8 hours on duty
    assert "Hasta finalizar 75 min 111 min 2" in texto and "Borde salida 1 1 0 — — 0" in texto
    assert "Imprimir" not in texto  # the page's toolbar is not printed
    fuentes = {
        str(f["/BaseFont"])
        for p in pdf.pages
        for f in (p["/Resources"].get("/Font") or {}).values()
        if "/BaseFont" in f.get_object()
    }
    assert any("Noto-Sans" in f for f in fuentes), fuentes  # the page's font, read from the static files
    # The charts are drawn in the PDF as vectors (pygal's SVG): their axis labels are text.
    assert "Alertas por hora" in texto or "alertas" in texto.lower()
    registro = Registro.objects.filter(action=Registro.Action.ACCESS, additional_data__lectura="reporte").get()
    assert registro.actor == comandante_a and registro.additional_data["formato"] == "pdf"
    assert c.get("/reportes/", {"formato": "docx"}).status_code == 400


def test_alcance_y_periodos_mal_dados(comandante_a, unidad_b, efectivo):
    c = Client()
    c.force_login(comandante_a)
    assert c.get("/reportes/", {"unidad": unidad_b.pk}).status_code == 404
    assert (
        c.get("/reportes/", {"desde": "2026-12-02T10:00:00-03:00", "hasta": "2026-12-01T10:00:00-03:00"}).status_code
        == 400
    )
    assert (
        c.get("/reportes/", {"desde": "2026-01-01T00:00:00-03:00", "hasta": "2026-12-01T00:00:00-03:00"}).status_code
        == 400
    )
    assert c.get("/reportes/", {"periodo": "anio"}).status_code == 400
    c.force_login(efectivo.usuario)
    assert c.get("/reportes/").status_code == 403


def test_redespachos_y_duraciones_negativas_se_informan_y_no_se_promedian(comandante_a, unidad_a, client):
    from tareas import services

    for metros in (100, 300):
        EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, este_m=metros), srid=4326))
    tarea = services.tarea_crear(
        usuario=comandante_a, titulo="Corte", unidad_id=unidad_a.pk, lat=CENTRO[1], lon=CENTRO[0]
    )
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    services.asignaciones_vencer(ahora=timezone.now() + timedelta(hours=1))  # timed out: the next one goes
    nueva = Asignacion.objects.get(tarea=tarea, estado="pendiente")
    # A corrupted row: "accepted" ten minutes before being assigned.
    Asignacion.objects.filter(pk=nueva.pk).update(
        estado="aceptada", respondida_en=nueva.asignada_en - timedelta(minutes=10)
    )
    ahora = timezone.now()
    r = reporte_unidad(unidad_id=unidad_a.pk, desde=ahora - timedelta(hours=1), hasta=ahora + timedelta(hours=1))
    a = r.asignaciones
    assert (a["total"], a["vencidas"], a["redespachos"], a["duraciones_negativas"]) == (2, 1, 1, 1)
    assert a["redespachos_por_tarea"] == 1.0
    assert a["aceptar_p50_s"] is None  # the only "acceptance" is the negative one: not averaged in
    assert r.respuestas_s == []
    client.force_login(comandante_a)
    desde, hasta = (ahora - timedelta(hours=1)).isoformat(), (ahora + timedelta(hours=1)).isoformat()
    html = client.get("/reportes/", {"desde": desde, "hasta": hasta}).content.decode()
    assert "Redespachos: 1" in html and "tiempos inconsistentes" in html
