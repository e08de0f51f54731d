"""Load the demo operating area (idempotent): unidades, users, efectivos with recent positions,
geofences and tasks in every state."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from demo import datos as demo
from efectivos.models import Dispositivo, Efectivo, EstadoEfectivo, FuentePosicion, Rol, Turno, Unidad, Usuario
from efectivos.services import credencial_hash
from geocercas.models import Geocerca
from geocercas.services import geocerca_guardar
from posiciones.services import LecturaNueva, posiciones_registrar
from tareas.models import Asignacion, EstadoAsignacion, EstadoTarea, Prioridad, Tarea, TareaEvento, TipoTarea
from tareas.services import tarea_codigo_generar

DNI_PREFIJO = {"CC1": 31, "CC14": 32, "CC4": 34}

LOGINS = [
    # username, password, rol, unidad
    ("admin", "admin1234", Rol.ADMINISTRADOR, None),
    ("comandante", "comandante1234", Rol.COMANDANTE, "CC1"),
    ("comandante.palermo", "comandante1234", Rol.COMANDANTE, "CC14"),
    ("comandante.boca", "comandante1234", Rol.COMANDANTE, "CC4"),
    ("efectivo", "efectivo1234", Rol.EFECTIVO, "CC1"),
]


class Command(BaseCommand):
    help = "Carga datos de demostración (idempotente)."

    def add_arguments(self, parser):
        parser.add_argument("--efectivos", type=int, default=80, help="Efectivos por unidad (defecto 80).")

    def handle(self, *args, efectivos: int, **options):
        rnd = random.Random(2026)
        with transaction.atomic():
            unidades = self._unidades()
            usuarios = self._usuarios(unidades)
            self._geocercas(unidades)
            creados = self._efectivos(unidades, usuarios, efectivos, rnd)
            self._turnos()
            if not Tarea.objects.exists():
                self._tareas(unidades, usuarios["comandante"], rnd)
        self._posiciones_recientes(rnd)
        self._equipos()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo lista: {Unidad.objects.count()} unidades, {Efectivo.objects.count()} efectivos "
                f"({creados} nuevos), {Geocerca.objects.count()} geocercas, {Tarea.objects.count()} tareas."
            )
        )

    def _equipos(self) -> None:
        """The demo phones (demo.datos.EQUIPOS), idempotent."""
        for codigo, tipo, secreto, usuario, _ in demo.EQUIPOS:
            efectivo = Efectivo.objects.filter(codigo_interno=codigo).first()
            if efectivo is not None:
                Dispositivo.objects.get_or_create(
                    credencial_hash=credencial_hash(secreto),
                    defaults={
                        "efectivo": efectivo,
                        "tipo": tipo,
                        "usuario": usuario,
                        "etiqueta": "Teléfono de demostración",
                    },
                )

    def _unidades(self) -> dict[str, Unidad]:
        unidades = {}
        for codigo, nombre, anillo in demo.UNIDADES:
            unidades[codigo], _ = Unidad.objects.get_or_create(
                codigo=codigo,
                defaults={"nombre": nombre, "jurisdiccion": MultiPolygon(Polygon(anillo, srid=4326), srid=4326)},
            )
        return unidades

    def _usuarios(self, unidades: dict[str, Unidad]) -> dict[str, Usuario]:
        usuarios = {}
        for username, password, rol, unidad in LOGINS:
            usuario, creado = Usuario.objects.get_or_create(
                username=username,
                defaults={
                    "rol": rol,
                    "unidad": unidades.get(unidad) if unidad else None,
                    "is_staff": rol == Rol.ADMINISTRADOR,
                    "is_superuser": rol == Rol.ADMINISTRADOR,
                    "first_name": username.split(".")[0].capitalize(),
                    "last_name": "Demo",
                },
            )
            if creado:
                usuario.set_password(password)
                usuario.save(update_fields=["password"])
            usuarios[username] = usuario
        return usuarios

    def _geocercas(self, unidades: dict[str, Unidad]) -> None:
        for i, (nombre, tipo, centro, radio, severidad, codigos, dwell) in enumerate(demo.GEOCERCAS):
            if Geocerca.objects.filter(nombre=nombre).exists():
                continue
            geocerca = Geocerca(
                nombre=nombre,
                tipo=tipo,
                geom=demo.poligono_irregular(centro, radio, seed=i),
                severidad=severidad,
                histeresis_m=10 if radio < 300 else 20,
                permanencia_min_s=dwell,
                confirmar_lecturas=2,  # a GPS spike raises nothing (benchmarks/README.md, ground truth)
            )
            if nombre in demo.HORARIOS:
                geocerca.horario_dias, geocerca.horario_desde, geocerca.horario_hasta = demo.HORARIOS[nombre]
            geocerca_guardar(geocerca=geocerca, unidades=[unidades[c].pk for c in codigos])
        for nombre, centro, largo, ancho, severidad in demo.FRANJAS:
            if not Geocerca.objects.filter(nombre=nombre).exists():
                geocerca_guardar(
                    geocerca=Geocerca(
                        nombre=nombre,
                        tipo="restringida",
                        geom=demo.rectangulo(centro, largo, ancho),
                        severidad=severidad,
                        histeresis_m=10,
                        confirmar_lecturas=2,
                    )
                )

    def _efectivos(self, unidades, usuarios, por_unidad: int, rnd: random.Random) -> int:
        creados = 0
        for codigo, unidad in unidades.items():
            existentes = Efectivo.objects.filter(unidad=unidad).count()
            for i in range(existentes, por_unidad):
                estado = rnd.choices(
                    [EstadoEfectivo.DISPONIBLE, EstadoEfectivo.FUERA_SERVICIO, EstadoEfectivo.NO_DISPONIBLE],
                    weights=[82, 12, 6],
                )[0]
                Efectivo.objects.create(
                    codigo_interno=f"{codigo}-{i + 1:04d}",
                    dni=f"{DNI_PREFIJO[codigo]}{i + 1:06d}",
                    nombre=rnd.choice(demo.NOMBRES),
                    apellido=rnd.choice(demo.APELLIDOS),
                    rango=rnd.choice(demo.RANGOS),
                    unidad=unidad,
                    especialidades=rnd.sample(demo.ESPECIALIDADES, k=rnd.choice([0, 1, 1, 2])),
                    estado=estado,
                )
                creados += 1
        propio = Efectivo.objects.filter(unidad=unidades["CC1"]).order_by("codigo_interno").first()
        if propio and propio.usuario_id is None and not Efectivo.objects.filter(usuario=usuarios["efectivo"]).exists():
            propio.usuario = usuarios["efectivo"]
            propio.estado = EstadoEfectivo.DISPONIBLE
            propio.save(update_fields=["usuario", "estado"])
        return creados

    def _turnos(self) -> None:
        """The roster: 12-hour shifts (06:00-18:00, 18:00-06:00 in the agency's zone) for the next
        two weeks, for everyone not "fuera de servicio" (their readings are then not stored).
        Idempotent: each run only adds the shifts after the last one an efectivo has."""
        ahora = timezone.localtime()
        borde = ahora.replace(hour=6 if ahora.hour >= 6 else 18, minute=0, second=0, microsecond=0)
        if ahora.hour < 6:
            borde -= timedelta(days=1)
        elif ahora.hour >= 18:
            borde = borde.replace(hour=18)
        hasta = borde + timedelta(days=14)
        ultimos = dict(Turno.objects.values("efectivo_id").annotate(fin=Max("fin")).values_list("efectivo_id", "fin"))
        nuevos = []
        for efectivo_id in Efectivo.objects.exclude(estado=EstadoEfectivo.FUERA_SERVICIO).values_list("pk", flat=True):
            inicio = max(ultimos.get(efectivo_id) or borde - timedelta(hours=12), borde - timedelta(hours=12))
            while inicio < hasta:
                nuevos.append(Turno(efectivo_id=efectivo_id, inicio=inicio, fin=inicio + timedelta(hours=12)))
                inicio += timedelta(hours=12)
        Turno.objects.bulk_create(nuevos, batch_size=2000)

    def _tareas(self, unidades, comandante: Usuario, rnd: random.Random) -> None:
        ahora = timezone.now()
        plan = [
            (EstadoTarea.PROGRAMADA, "Patrullaje preventivo Av. de Mayo", TipoTarea.PATRULLAJE, Prioridad.NORMAL),
            (EstadoTarea.PROGRAMADA, "Control de tránsito Av. Corrientes", TipoTarea.VIGILANCIA, Prioridad.BAJA),
            (EstadoTarea.ASIGNADA, "Vigilancia en Plaza San Martín", TipoTarea.VIGILANCIA, Prioridad.ALTA),
            (EstadoTarea.EN_CURSO, "Intervención por disturbios en Retiro", TipoTarea.INTERVENCION, Prioridad.URGENTE),
            (EstadoTarea.PAUSADA, "Relevamiento de cámaras San Telmo", TipoTarea.INVESTIGACION, Prioridad.NORMAL),
            (EstadoTarea.FINALIZADA, "Operativo partido en La Boca", TipoTarea.PATRULLAJE, Prioridad.ALTA),
            (EstadoTarea.CANCELADA, "Capacitación en primeros auxilios", TipoTarea.ENTRENAMIENTO, Prioridad.BAJA),
            (EstadoTarea.FINALIZADA, "Informe mensual de novedades", TipoTarea.ADMINISTRATIVA, Prioridad.BAJA),
        ]
        camino = {
            EstadoTarea.PROGRAMADA: [EstadoTarea.PROGRAMADA],
            EstadoTarea.ASIGNADA: [EstadoTarea.PROGRAMADA, EstadoTarea.ASIGNADA],
            EstadoTarea.EN_CURSO: [EstadoTarea.PROGRAMADA, EstadoTarea.ASIGNADA, EstadoTarea.EN_CURSO],
            EstadoTarea.PAUSADA: [
                EstadoTarea.PROGRAMADA,
                EstadoTarea.ASIGNADA,
                EstadoTarea.EN_CURSO,
                EstadoTarea.PAUSADA,
            ],
            EstadoTarea.FINALIZADA: [
                EstadoTarea.PROGRAMADA,
                EstadoTarea.ASIGNADA,
                EstadoTarea.EN_CURSO,
                EstadoTarea.FINALIZADA,
            ],
            EstadoTarea.CANCELADA: [EstadoTarea.PROGRAMADA, EstadoTarea.CANCELADA],
        }
        for unidad in unidades.values():
            jurisdiccion = unidad.jurisdiccion[0]
            libres = list(
                Efectivo.objects.filter(unidad=unidad, estado=EstadoEfectivo.DISPONIBLE, usuario__isnull=True)
            )
            for estado, titulo, tipo, prioridad in plan:
                lon, lat = demo.punto_en(jurisdiccion, rnd)
                inicio = ahora - timedelta(hours=rnd.randint(1, 6))
                tarea = Tarea.objects.create(
                    codigo=tarea_codigo_generar(),
                    titulo=titulo,
                    tipo=tipo,
                    prioridad=prioridad,
                    estado=estado,
                    unidad=unidad,
                    ubicacion=Point(lon, lat, srid=4326),
                    inicio_programado=inicio,
                    fin_programado=inicio + timedelta(hours=4),
                    inicio_real=inicio
                    if estado in (EstadoTarea.EN_CURSO, EstadoTarea.PAUSADA, EstadoTarea.FINALIZADA)
                    else None,
                    fin_real=inicio + timedelta(hours=2) if estado == EstadoTarea.FINALIZADA else None,
                    pausada_en=ahora - timedelta(minutes=20) if estado == EstadoTarea.PAUSADA else None,
                    tiempo_pausado=timedelta(0),
                    creada_por=comandante,
                )
                anterior = ""
                for paso in camino[estado]:
                    TareaEvento.objects.create(
                        tarea=tarea, usuario=comandante, estado_anterior=anterior, estado_nuevo=paso, motivo="demo"
                    )
                    anterior = paso
                if (
                    estado in (EstadoTarea.ASIGNADA, EstadoTarea.EN_CURSO, EstadoTarea.PAUSADA, EstadoTarea.FINALIZADA)
                    and libres
                ):
                    efectivo = libres.pop()
                    abierta = estado != EstadoTarea.FINALIZADA
                    Asignacion.objects.create(
                        tarea=tarea,
                        efectivo=efectivo,
                        estado=EstadoAsignacion.PENDIENTE
                        if estado == EstadoTarea.ASIGNADA
                        else EstadoAsignacion.ACEPTADA
                        if abierta
                        else EstadoAsignacion.LIBERADA,
                        distancia_m=rnd.uniform(100, 2500),
                        asignada_por=comandante,
                    )
                    tarea.delegado = efectivo
                    tarea.save(update_fields=["delegado"])
                    if abierta:
                        efectivo.estado = EstadoEfectivo.EN_TAREA
                        efectivo.save(update_fields=["estado"])

    def _posiciones_recientes(self, rnd: random.Random) -> None:
        """Every efectivo gets a fix from the last few minutes, through the real ingest path."""
        ahora = timezone.now()
        lecturas = []
        # Nobody starts inside a fence or near its edge: a shift starts with no alert.
        evitar = [g.geom.buffer(80 / 111_320).prepared for g in Geocerca.objects.filter(activa=True)]
        for efectivo in Efectivo.objects.select_related("unidad").order_by("pk"):
            if efectivo.ultima_posicion_en and ahora - efectivo.ultima_posicion_en < timedelta(minutes=10):
                continue
            if efectivo.ultima_posicion is not None:
                lon, lat = efectivo.ultima_posicion.x, efectivo.ultima_posicion.y
            else:
                assert efectivo.unidad.jurisdiccion is not None  # every demo unidad has one
                lon, lat = demo.punto_en(efectivo.unidad.jurisdiccion[0], rnd, evitar)
            lecturas.append(
                LecturaNueva(
                    id_cliente=uuid.uuid4(),
                    efectivo_id=efectivo.pk,
                    lat=lat,
                    lon=lon,
                    registrada_en=ahora - timedelta(seconds=rnd.randint(5, 120)),
                    precision_m=rnd.uniform(4, 15),
                )
            )
        for i in range(0, len(lecturas), 500):
            posiciones_registrar(lecturas=lecturas[i : i + 500], fuente=FuentePosicion.SIMULADOR)
