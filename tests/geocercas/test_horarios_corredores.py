"""Geofence schedules (days and hours in the agency's zone) and corridors (a route with a width:
alert on leaving it), through the API and the one ingest entry point, on real PostGIS."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from geocercas.engine import Horario
from geocercas.models import Alerta, Geocerca, TipoGeocerca
from posiciones.services import LecturaNueva, posiciones_registrar
from tests.factories import CENTRO, EfectivoFactory, GeocercaFactory, cuadrado, desplazar

ZONA = ZoneInfo("America/Argentina/Buenos_Aires")
pytestmark = pytest.mark.django_db


def local(dia: int, hora: int, minuto: int = 0) -> datetime:
    """A moment of the week of Monday 2026-11-30, in Buenos Aires (dia: 1 = Monday)."""
    return datetime(2026, 11, 30, hora, minuto, tzinfo=ZONA) + timedelta(days=dia - 1)


# --- the schedule, pure ------------------------------------------------------------------------------


def test_un_horario_de_dia_rige_solo_esos_dias_y_horas():
    oficina = Horario(frozenset({1, 2, 3, 4, 5}), time(8), time(18))
    assert oficina.rige(local(1, 8))
    assert oficina.rige(local(5, 17, 59))
    assert not oficina.rige(local(5, 18))  # the end is exclusive
    assert not oficina.rige(local(6, 10))  # Saturday
    assert not oficina.rige(local(3, 7, 59))


def test_un_horario_nocturno_cruza_la_medianoche_desde_el_dia_en_que_empieza():
    viernes_noche = Horario(frozenset({5}), time(22), time(6))
    assert viernes_noche.rige(local(5, 23))
    assert viernes_noche.rige(local(6, 5, 59))  # Saturday early morning belongs to Friday night
    assert not viernes_noche.rige(local(6, 23))
    assert not viernes_noche.rige(local(5, 5))  # Friday early morning belongs to Thursday night
    todas_las_noches = Horario(frozenset(), time(22), time(6))
    assert todas_las_noches.rige(local(1, 2)) and not todas_las_noches.rige(local(1, 12))


def test_solo_dias_rige_el_dia_entero():
    findes = Horario(frozenset({6, 7}), None, None)
    assert findes.rige(local(7, 0)) and findes.rige(local(6, 23, 59))
    assert not findes.rige(local(1, 12))


# --- schedules through the ingest ---------------------------------------------------------------------


def _lectura(efectivo, este_m: float, en: datetime) -> LecturaNueva:
    lon, lat = desplazar(*CENTRO, este_m=este_m)
    return LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, en, 5.0)


def _tipos(efectivo) -> list[str]:
    return list(Alerta.objects.filter(efectivo=efectivo).order_by("id").values_list("tipo", flat=True))


def test_una_zona_restringida_de_noche_no_alerta_de_dia_y_alerta_a_quien_esta_dentro_al_empezar():
    GeocercaFactory(
        tipo=TipoGeocerca.RESTRINGIDA, geom=cuadrado(lado_m=200), horario_desde=time(22), horario_hasta=time(6)
    )
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    tarde = local(1, 21, 50)
    posiciones_registrar(lecturas=[_lectura(efectivo, 500, tarde), _lectura(efectivo, 0, tarde + timedelta(minutes=1))])
    assert _tipos(efectivo) == []  # inside before 22:00: allowed
    posiciones_registrar(lecturas=[_lectura(efectivo, 0, local(1, 22, 1))])
    assert _tipos(efectivo) == ["entrada"]  # still inside when the restriction starts


def test_al_terminar_el_horario_de_un_perimetro_salir_no_alerta():
    GeocercaFactory(
        tipo=TipoGeocerca.PERIMETRO,
        geom=cuadrado(lado_m=200),
        horario_dias=[1, 2, 3, 4, 5],
        horario_desde=time(8),
        horario_hasta=time(18),
    )
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    posiciones_registrar(lecturas=[_lectura(efectivo, 0, local(2, 17, 0))])
    posiciones_registrar(lecturas=[_lectura(efectivo, 600, local(2, 18, 30))])  # off duty: free to go
    assert _tipos(efectivo) == []
    posiciones_registrar(lecturas=[_lectura(efectivo, 600, local(3, 8, 5))])  # on duty, outside
    assert _tipos(efectivo) == ["salida"]


# --- corridors ----------------------------------------------------------------------------------------

RUTA = {"type": "LineString", "coordinates": [list(CENTRO), list(desplazar(*CENTRO, este_m=2000))]}


def _corredor(**props) -> dict:
    return {
        "type": "Feature",
        "geometry": props.pop("geometry", RUTA),
        "properties": {"nombre": "Traslado", "tipo": "corredor", "ancho_m": 100, **props},
    }


def test_un_corredor_se_crea_con_su_ruta_y_ancho_y_alerta_al_salir_de_el(api, admin):
    r = api(admin).post("/api/v1/geocercas/", _corredor(), format="json")
    assert r.status_code == 201, r.json()
    cuerpo = r.json()
    assert cuerpo["geometry"]["type"] == "MultiPolygon"  # the area it covers, drawn on the map
    assert cuerpo["properties"]["ruta"] == {"type": "LineString", "coordinates": RUTA["coordinates"]}
    geocerca = Geocerca.objects.get(pk=cuerpo["id"])
    # About 2 km long and 100 m wide (plus the round ends).
    area_m2 = Geocerca.objects.filter(pk=geocerca.pk).extra(select={"a": "ST_Area(geom::geography)"}).values("a")[0]
    assert 2000 * 100 < area_m2["a"] < 2000 * 100 + 3.2 * 50**2 + 5000

    efectivo = EfectivoFactory(ultima_posicion_en=None)
    t0 = local(2, 10)
    en_ruta = [desplazar(*CENTRO, este_m=x, norte_m=20) for x in (0, 500, 1000)]
    posiciones_registrar(
        lecturas=[
            LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, t0 + timedelta(minutes=i), 5.0)
            for i, (lon, lat) in enumerate(en_ruta)
        ]
    )
    assert _tipos(efectivo) == []
    lon, lat = desplazar(*CENTRO, este_m=1200, norte_m=300)  # 300 m off the route
    posiciones_registrar(lecturas=[LecturaNueva(uuid.uuid4(), efectivo.pk, lat, lon, t0 + timedelta(minutes=4), 5.0)])
    assert _tipos(efectivo) == ["salida"]

    # Widening it recomputes the area from the same route.
    r = api(admin).patch(f"/api/v1/geocercas/{geocerca.pk}/", {"properties": {"ancho_m": 1000}}, format="json")
    assert r.status_code == 200, r.json()
    geocerca.refresh_from_db()
    assert geocerca.ancho_m == 1000 and geocerca.version == 2
    assert geocerca.geom.contains(desplazar_punto(1200, 300))


def desplazar_punto(este_m: float, norte_m: float):
    from django.contrib.gis.geos import Point

    return Point(*desplazar(*CENTRO, este_m=este_m, norte_m=norte_m), srid=4326)


@pytest.mark.parametrize(
    ("feature", "campo", "fragmento"),
    [
        # A route that crosses itself.
        (
            _corredor(
                geometry={
                    "type": "LineString",
                    "coordinates": [[-58.40, -34.60], [-58.39, -34.61], [-58.39, -34.60], [-58.40, -34.61]],
                }
            ),
            "geom",
            "se cruza",
        ),
        (_corredor(ancho_m=None), "ancho_m", ""),
        (_corredor(ancho_m=0), "ancho_m", ""),
        (
            _corredor(
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[-58.40, -34.61], [-58.39, -34.61], [-58.39, -34.60], [-58.40, -34.61]]],
                }
            ),
            "geom",
            "línea",
        ),
        (_corredor(tipo="perimetro"), "geom", "corredor"),
        (_corredor(horario_desde="22:00"), "horario_hasta", ""),
        (_corredor(horario_desde="08:00", horario_hasta="08:00"), "horario_hasta", "distint"),
        (_corredor(horario_dias=[0, 8]), "horario_dias", ""),
        (_corredor(horario_dias=[1, 1]), "horario_dias", "repet"),
        (_corredor(horario_desde="25:00", horario_hasta="06:00"), "horario_desde", ""),
    ],
)
def test_corredores_y_horarios_mal_formados_son_400_que_nombran_el_campo(api, admin, feature, campo, fragmento):
    r = api(admin).post("/api/v1/geocercas/", feature, format="json")
    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert error["codigo"] == "entrada_invalida"
    assert campo in error["detalle"], error
    assert fragmento in str(error["detalle"][campo])
    assert not Geocerca.objects.exists()


def test_el_horario_se_lee_y_se_escribe_por_la_api(api, admin):
    poligono = {
        "type": "Polygon",
        "coordinates": [[[-58.40, -34.61], [-58.39, -34.61], [-58.39, -34.60], [-58.40, -34.60], [-58.40, -34.61]]],
    }
    feature = {
        "type": "Feature",
        "geometry": poligono,
        "properties": {
            "nombre": "Escuela",
            "tipo": "restringida",
            "horario_dias": [5, 1, 3],
            "horario_desde": "07:30",
            "horario_hasta": "12:00",
        },
    }
    r = api(admin).post("/api/v1/geocercas/", feature, format="json")
    assert r.status_code == 201, r.json()
    props = r.json()["properties"]
    assert (props["horario_dias"], props["horario_desde"], props["horario_hasta"]) == (
        [1, 3, 5],
        "07:30:00",
        "12:00:00",
    )
    assert props["ruta"] is None and props["ancho_m"] is None


def test_fuera_de_horario_se_dice_y_tambien_desde_cuando_rige():
    """A Mon–Fri night restriction on a Sunday afternoon is not in force, and starts Monday 22:00."""
    from zoneinfo import ZoneInfo

    from geocercas.engine import Horario

    zona = ZoneInfo("America/Argentina/Buenos_Aires")
    noche = Horario.de([1, 2, 3, 4, 5], time(22), time(6))
    domingo = datetime(2026, 12, 6, 15, 0, tzinfo=zona)
    assert not noche.rige(domingo)
    assert noche.proximo_cambio(domingo) == datetime(2026, 12, 7, 22, 0, tzinfo=zona)
    # Friday night runs into Saturday morning, then stops until Monday night.
    sabado = datetime(2026, 12, 12, 1, 0, tzinfo=zona)
    assert noche.rige(sabado) and noche.proximo_cambio(sabado) == datetime(2026, 12, 12, 6, 0, tzinfo=zona)
    assert Horario.de([], None, None) is None


@pytest.mark.django_db
def test_la_api_dice_si_una_geocerca_rige_ahora(api, admin):
    from django.utils import timezone as tz

    ahora = tz.localtime()
    fuera = GeocercaFactory(
        horario_dias=[((ahora.isoweekday()) % 7) + 1], horario_desde=time(0), horario_hasta=time(23, 59)
    )  # only tomorrow
    siempre = GeocercaFactory()
    datos = {f["id"]: f["properties"] for f in api(admin).get("/api/v1/geocercas/").json()["features"]}
    assert datos[siempre.pk]["vigente_ahora"] is True and datos[siempre.pk]["vigencia_cambia_en"] is None
    assert datos[fuera.pk]["vigente_ahora"] is False
    assert datos[fuera.pk]["vigencia_cambia_en"].startswith((ahora + timedelta(days=1)).date().isoformat())
