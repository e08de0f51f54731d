"""Writes for officer safety: raising an SOS (and dispatching backup at once) and resolving it;
"sin reporte" alerts for efectivos in service who stopped reporting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from efectivos.alcance import alcance_de
from efectivos.models import Efectivo, Usuario
from gad_project.exceptions import Conflicto, EntradaInvalida, NoEncontrado, NoPermitido
from gad_project.tiempo import iso
from realtime import eventos
from realtime.services import publish_many
from seguridad.models import EstadoSos, FuenteSos, SinReporte, Sos
from seguridad.selectors import sos_visibles
from tareas.models import ESTADOS_ABIERTOS, EstadoTarea, Tarea
from tareas.services import emergencia_crear, tarea_transicionar


def sos_datos(sos: Sos, asignados: Sequence[int] = ()) -> eventos.SosDatos:
    e = sos.efectivo
    return {
        "sos_id": sos.pk,
        "estado": sos.estado,
        "efectivo_id": e.pk,
        "efectivo": f"{e.apellido}, {e.nombre}",
        "unidad_id": e.unidad_id,
        "lat": sos.punto.y if sos.punto else None,
        "lon": sos.punto.x if sos.punto else None,
        "lugar": sos.lugar or None,  # named by the row's trigger (mapa.campos.LugarField)
        "tarea_id": sos.tarea_id,
        "asignados": list(asignados),
        "creado_en": iso(sos.creado_en),
        "resuelto_en": iso(sos.resuelto_en) if sos.resuelto_en else None,
        "resuelto_por": str(sos.resuelto_por) if sos.resuelto_por else None,
        "nota": sos.nota,
    }


def sos_activar(
    *,
    usuario: Usuario,
    lat: float | None = None,
    lon: float | None = None,
    precision_m: float | None = None,
    fuente: str = FuenteSos.API,
    id_cliente: uuid.UUID | None = None,
) -> tuple[Sos, bool, list[int]]:
    """The caller's SOS: raised at once, with the location sent or the efectivo's last fix (if
    newer than DESPACHO_FIX_MAX_MIN), else without one until it arrives. Once the place is known,
    an emergency task dispatches the SOS_REFUERZOS nearest available efectivos (the policy of
    tareas' dispatch). Tapping again while it is active is the same SOS: it only adds the location
    if it was missing; so is a replay of the same `id_cliente`, even once resolved. Returns (sos,
    created, backup efectivo ids dispatched now)."""
    efectivo = _efectivo_propio(usuario)
    if id_cliente is not None:
        repetido = Sos.objects.filter(id_cliente=id_cliente, efectivo=efectivo).first()
        if repetido is not None:
            return repetido, False, []
    if lat is None or lon is None:
        lat = lon = None
        reciente = timezone.now() - timedelta(minutes=settings.DESPACHO_FIX_MAX_MIN)
        fix_en = efectivo.ultima_posicion_en
        if efectivo.ultima_posicion is not None and fix_en is not None and fix_en > reciente:
            lat, lon = efectivo.ultima_posicion.y, efectivo.ultima_posicion.x
            precision_m = efectivo.ultima_precision_m
    with transaction.atomic():
        Efectivo.objects.select_for_update().filter(pk=efectivo.pk).exists()  # two taps: one SOS
        sos = Sos.objects.filter(efectivo=efectivo, estado=EstadoSos.ACTIVO).first()
        creado = sos is None
        if sos is None:
            sos = Sos(efectivo=efectivo, fuente=fuente, id_cliente=id_cliente)
        ubicado = sos.punto is None and lat is not None and lon is not None
        if ubicado:
            sos.punto = Point(lon, lat, srid=4326)
            sos.precision_m = precision_m
        sos.save()
        if ubicado and not creado:  # an INSERT returns the trigger's name; an UPDATE does not
            sos.refresh_from_db(fields=["lugar"])
        asignados: list[int] = []
        if sos.punto is not None and sos.tarea_id is None:
            tarea, enviados = emergencia_crear(
                usuario=usuario,
                lat=sos.punto.y,
                lon=sos.punto.x,
                descripcion=f"SOS de {efectivo.apellido}, {efectivo.nombre} ({efectivo.codigo_interno})",
                k=settings.SOS_REFUERZOS,
            )
            sos.tarea = tarea
            sos.save(update_fields=["tarea"])
            asignados = [a.efectivo.pk for a in enviados]
        sos.efectivo = efectivo  # the one read above, with its unidad: sos_datos needs no query
        if creado or ubicado:
            publish_many([eventos.sos(sos_datos(sos, asignados))])
    return sos, creado, asignados


DESTINOS_TAREA = ("mantener", "finalizar", "cancelar")


def sos_resolver(*, sos_id: int, usuario: Usuario, nota: str = "", tarea: str = "mantener") -> Sos:
    """Close an SOS: a commander of the efectivo's unidad or an admin, or the efectivo themself
    (a false alarm). Its emergency task is kept (`mantener`: it follows its own course),
    finished (`finalizar`: help arrived) or cancelled (`cancelar`: a false alarm); finishing or
    cancelling releases the backups. Only command decides the task's fate."""
    if tarea not in DESTINOS_TAREA:
        raise EntradaInvalida("Destino de la tarea desconocido.", detalle={"tarea": list(DESTINOS_TAREA)})
    with transaction.atomic():
        sos = sos_visibles(usuario=usuario).select_for_update(of=("self",)).filter(pk=sos_id).first()
        if sos is None:
            raise NoEncontrado("SOS inexistente o fuera de su alcance.")
        sos = Sos.objects.select_related("efectivo", "resuelto_por").get(pk=sos.pk)
        alcance = alcance_de(usuario)
        if not (alcance.manda_en(sos.efectivo.unidad_id) or alcance.efectivo_id == sos.efectivo_id):
            raise NoPermitido("Solo el mando de su unidad o el propio efectivo resuelven un SOS.")
        if sos.estado != EstadoSos.ACTIVO:
            raise Conflicto("El SOS ya está resuelto.", codigo="sos_resuelto")
        if tarea != "mantener" and not alcance.es_mando:
            raise NoPermitido("Solo el mando decide qué pasa con la emergencia.", codigo="tarea_del_mando")
        sos.estado = EstadoSos.RESUELTO
        sos.resuelto_en = timezone.now()
        sos.resuelto_por = usuario
        sos.nota = nota
        sos.save(update_fields=["estado", "resuelto_en", "resuelto_por", "nota"])
        publish_many([eventos.sos(sos_datos(sos))])
        if tarea != "mantener" and sos.tarea_id is not None:
            _cerrar_emergencia(sos.tarea_id, usuario, tarea, nota)
    return sos


def _cerrar_emergencia(tarea_id: int, usuario: Usuario, destino: str, nota: str) -> None:
    """Finish (help arrived: started then finished if it had not started) or cancel (a false
    alarm) an SOS's emergency task, if still open; either releases its backups."""
    motivo = ("SOS resuelto: " + (nota or ("atendido" if destino == "finalizar" else "falsa alarma")))[:300]
    estado = Tarea.objects.filter(pk=tarea_id).values_list("estado", flat=True).first()
    if estado is None or estado not in ESTADOS_ABIERTOS:
        return
    if destino == "cancelar" or estado == EstadoTarea.PROGRAMADA:
        tarea_transicionar(tarea_id=tarea_id, accion="cancelar", usuario=usuario, motivo=motivo)
        return
    if estado == EstadoTarea.ASIGNADA:
        tarea_transicionar(tarea_id=tarea_id, accion="iniciar", usuario=usuario, motivo=motivo)
    tarea_transicionar(tarea_id=tarea_id, accion="finalizar", usuario=usuario, motivo=motivo)


def _efectivo_propio(usuario: Usuario) -> Efectivo:
    alcance = alcance_de(usuario)
    if alcance.efectivo_id is None:
        raise NoPermitido("Solo un efectivo con legajo y cuenta activa pide auxilio.", codigo="sin_legajo")
    return Efectivo.objects.select_related("unidad").get(pk=alcance.efectivo_id)


# One statement each way, set-based, whatever the number of efectivos. Closing first: a fix that
# arrived ends the silence before a new one could be counted.
_SQL_CERRAR = """
UPDATE seguridad_sinreporte s SET cerrado_en = %(ahora)s
FROM efectivos_efectivo e
WHERE s.efectivo_id = e.id AND s.cerrado_en IS NULL
  AND (e.ultima_posicion_en > s.ultima_posicion_en OR e.estado NOT IN ('disponible', 'en_tarea'))
RETURNING s.id
"""
_SQL_ABRIR = """
INSERT INTO seguridad_sinreporte (efectivo_id, ultima_posicion_en, punto, contacto_en, creado_en)
SELECT e.id, e.ultima_posicion_en, e.ultima_posicion,
       (SELECT max(d.ultimo_contacto_en) FROM efectivos_dispositivo d
        WHERE d.efectivo_id = e.id AND d.revocado_en IS NULL AND d.ultimo_contacto_en >= %(limite)s),
       %(ahora)s
FROM efectivos_efectivo e
WHERE e.estado IN ('disponible', 'en_tarea')
  AND e.ultima_posicion_en < %(limite)s
  AND NOT EXISTS (SELECT 1 FROM seguridad_sinreporte s WHERE s.efectivo_id = e.id AND s.cerrado_en IS NULL)
ON CONFLICT DO NOTHING
RETURNING id
"""


def sin_reporte_datos(aviso: SinReporte) -> eventos.SinReporteDatos:
    e = aviso.efectivo
    return {
        "aviso_id": aviso.pk,
        "efectivo_id": e.pk,
        "efectivo": f"{e.apellido}, {e.nombre}",
        "unidad_id": e.unidad_id,
        "ultima_posicion_en": iso(aviso.ultima_posicion_en),
        "lat": aviso.punto.y if aviso.punto else None,
        "lon": aviso.punto.x if aviso.punto else None,
        "abierto": aviso.cerrado_en is None,
        "contacto_en": iso(aviso.contacto_en) if aviso.contacto_en else None,
    }


def sin_reporte_revisar(*, ahora: datetime | None = None) -> tuple[int, int]:
    """Raise "sin reporte" for every efectivo in service silent for SIN_REPORTE_MIN minutes (only
    those who ever reported: someone without the app is not missing), and close those whose fix
    arrived. Run every minute by Celery beat. Returns (raised, closed)."""
    ahora = ahora or timezone.now()
    limite = ahora - timedelta(minutes=settings.SIN_REPORTE_MIN)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SQL_CERRAR, {"ahora": ahora})
        cerrados = [fila[0] for fila in cursor.fetchall()]
        cursor.execute(_SQL_ABRIR, {"ahora": ahora, "limite": limite})
        abiertos = [fila[0] for fila in cursor.fetchall()]
        avisos = SinReporte.objects.filter(pk__in=[*cerrados, *abiertos]).select_related("efectivo")
        publicaciones = [eventos.sin_reporte(sin_reporte_datos(a)) for a in sorted(avisos, key=lambda a: a.pk)]
        if publicaciones:
            publish_many(publicaciones)
    return len(abiertos), len(cerrados)
