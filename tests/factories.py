"""One factory per model, valid by default, placed in the demo operating area (Buenos Aires)."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

import factory
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo, FuentePosicion, Posicion, Rol, Turno, Unidad, Usuario
from geocercas.models import Alerta, Geocerca, TipoAlerta, TipoGeocerca
from realtime.models import Evento
from tareas.models import Tarea

CENTRO = (-58.3816, -34.6037)  # lon, lat: el Obelisco
M_LAT = 111_320.0


def desplazar(lon: float, lat: float, *, este_m: float = 0.0, norte_m: float = 0.0) -> tuple[float, float]:
    """A point `este_m` metres east and `norte_m` metres north of (lon, lat)."""
    return (lon + este_m / (M_LAT * math.cos(math.radians(lat))), lat + norte_m / M_LAT)


def cuadrado(centro: tuple[float, float] = CENTRO, lado_m: float = 200.0) -> MultiPolygon:
    """A square fence of `lado_m` metres centred on `centro`."""
    lon, lat = centro
    h = lado_m / 2
    esquinas = [desplazar(lon, lat, este_m=dx, norte_m=dy) for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h), (-h, -h))]
    return MultiPolygon(Polygon(esquinas, srid=4326), srid=4326)


class UnidadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unidad

    codigo = factory.Sequence(lambda n: f"U{n:03d}")
    nombre = factory.LazyAttribute(lambda o: f"Unidad {o.codigo}")


class UsuarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Usuario
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"usuario{n}")
    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"Prueba{n}")
    rol = Rol.EFECTIVO
    password = factory.PostGenerationMethodCall("set_password", "clave-segura-123")

    @factory.post_generation
    def _guardar(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class EfectivoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Efectivo

    codigo_interno = factory.Sequence(lambda n: f"EF-{n:05d}")
    dni = factory.Sequence(lambda n: f"{40_000_000 + n}")
    nombre = "Juan"
    apellido = factory.Sequence(lambda n: f"Pérez{n}")
    rango = "Agente"
    unidad = factory.SubFactory(UnidadFactory)
    estado = EstadoEfectivo.DISPONIBLE
    ultima_posicion = factory.LazyFunction(lambda: Point(*CENTRO, srid=4326))
    ultima_posicion_en = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def turno(obj, create, extracted, **kwargs):
        """On duty: a shift around now, so their readings are stored (efectivos.Turno). `turno=False`
        leaves them off duty."""
        if create and extracted is not False:
            ahora = timezone.now()
            Turno.objects.create(efectivo=obj, inicio=ahora - timedelta(days=30), fin=ahora + timedelta(days=30))


class PosicionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Posicion

    efectivo = factory.SubFactory(EfectivoFactory)
    punto = factory.LazyFunction(lambda: Point(*CENTRO, srid=4326))
    registrada_en = factory.LazyFunction(timezone.now)
    recibida_en = factory.LazyFunction(timezone.now)
    fuente = FuentePosicion.API
    id_cliente = factory.LazyFunction(uuid.uuid4)


class GeocercaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Geocerca

    nombre = factory.Sequence(lambda n: f"Geocerca {n}")
    tipo = TipoGeocerca.RESTRINGIDA
    geom = factory.LazyFunction(cuadrado)
    histeresis_m = 10.0


class AlertaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alerta

    tipo = TipoAlerta.ENTRADA
    efectivo = factory.SubFactory(EfectivoFactory)
    geocerca = factory.SubFactory(GeocercaFactory)
    punto = factory.LazyFunction(lambda: Point(*CENTRO, srid=4326))
    ocurrida_en = factory.LazyFunction(timezone.now)
    severidad = "advertencia"


class TareaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tarea

    codigo = factory.Sequence(lambda n: f"T-TEST-{n:05d}")
    titulo = factory.Sequence(lambda n: f"Tarea {n}")
    unidad = factory.SubFactory(UnidadFactory)
    ubicacion = factory.LazyFunction(lambda: Point(*CENTRO, srid=4326))


class EventoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evento

    tipo = "prueba"
    datos = factory.LazyFunction(dict)
    audiencia = factory.LazyFunction(lambda: ["rol.administrador"])
