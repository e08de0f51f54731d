"""Duty (#30): shifts (efectivos.Turno), signing on and off, and whether an officer is on duty.

On duty at instant t: inside a shift's window, from its start (or an earlier sign-on, at most
TURNO_TOLERANCIA_MIN before it) to its end (or an earlier sign-off). The ingest applies the same
rule in SQL (the function efectivo_de_servicio, migration efectivos 0013), plus its exceptions: an active SOS or an open
task keep an officer's readings whatever the roster says.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from efectivos.models import Efectivo, EstadoEfectivo, Turno, Usuario
from gad_project.exceptions import Conflicto, EntradaInvalida
from gad_project.tiempo import iso


def _tolerancia() -> timedelta:
    return timedelta(minutes=settings.TURNO_TOLERANCIA_MIN)


def turno_actual(*, efectivo_id: int, ahora: datetime | None = None) -> Turno | None:
    """The shift the officer is on duty in now (None: off duty by the roster)."""
    ahora = ahora or timezone.now()
    for turno in Turno.objects.filter(efectivo_id=efectivo_id, fin__gt=ahora, inicio__lte=ahora + _tolerancia()):
        desde = min(turno.inicio, turno.inicio_real or turno.inicio)
        hasta = turno.fin_real or turno.fin
        if desde <= ahora < hasta:
            return turno
    return None


def servicio_iniciar(*, efectivo: Efectivo, ahora: datetime | None = None) -> Turno:
    """ "Inicio de servicio": from TURNO_TOLERANCIA_MIN before a shift starts until it ends
    (Conflicto `fuera_de_turno` otherwise, naming the next shift). An officer "fuera de servicio"
    becomes available."""
    ahora = ahora or timezone.now()
    with transaction.atomic():
        turno = (
            Turno.objects.select_for_update()
            .filter(efectivo=efectivo, inicio__lte=ahora + _tolerancia(), fin__gt=ahora)
            .order_by("inicio")
            .first()
        )
        if turno is None:
            proximo = Turno.objects.filter(efectivo=efectivo, inicio__gt=ahora).order_by("inicio").first()
            raise Conflicto(
                f"No tiene un turno en curso ni que empiece dentro de {settings.TURNO_TOLERANCIA_MIN} minutos.",
                detalle={
                    "proximo_turno": iso(proximo.inicio) if proximo else None,
                    "tolerancia_min": settings.TURNO_TOLERANCIA_MIN,
                },
                codigo="fuera_de_turno",
            )
        if turno.inicio_real is not None and turno.fin_real is None:
            raise Conflicto("Ya está en servicio.", detalle={"desde": iso(turno.inicio_real)}, codigo="ya_en_servicio")
        turno.inicio_real = turno.inicio_real or ahora
        turno.fin_real = None
        turno.save(update_fields=["inicio_real", "fin_real"])
    if efectivo.estado == EstadoEfectivo.FUERA_SERVICIO:
        from efectivos.services import efectivo_estado_cambiar

        efectivo_estado_cambiar(efectivo=efectivo, estado=EstadoEfectivo.DISPONIBLE)
    return turno


def servicio_terminar(*, efectivo: Efectivo, ahora: datetime | None = None) -> Turno:
    """ "Fin de servicio": ends the shift now (its readings stop being stored, unless an SOS or an
    open task); Conflicto `no_en_servicio` when off duty. An available officer becomes "fuera de
    servicio" (one on a task keeps it: the task decides)."""
    ahora = ahora or timezone.now()
    with transaction.atomic():
        turno = turno_actual(efectivo_id=efectivo.pk, ahora=ahora)
        if turno is None:
            raise Conflicto("No está en servicio.", codigo="no_en_servicio")
        turno.fin_real = ahora
        turno.save(update_fields=["fin_real"])
    if efectivo.estado in (EstadoEfectivo.DISPONIBLE, EstadoEfectivo.NO_DISPONIBLE):
        from efectivos.services import efectivo_estado_cambiar

        efectivo_estado_cambiar(efectivo=efectivo, estado=EstadoEfectivo.FUERA_SERVICIO)
    return turno


def turno_vista(turno: Turno | None) -> dict | None:
    if turno is None:
        return None
    return {
        "id": turno.pk,
        "inicio": iso(turno.inicio),
        "fin": iso(turno.fin),
        "funcion": turno.funcion,
        "inicio_real": iso(turno.inicio_real) if turno.inicio_real else None,
        "fin_real": iso(turno.fin_real) if turno.fin_real else None,
    }


# --- the roster from a CSV --------------------------------------------------------------------------

CSV_COLUMNAS = ("codigo_interno", "inicio", "fin", "funcion")
FORMATOS = ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


@dataclass
class Importacion:
    creados: int
    errores: list[str]


def _hora(texto: str) -> datetime:
    texto = texto.strip()
    try:
        valor = datetime.fromisoformat(texto)
    except ValueError:
        for formato in FORMATOS:
            try:
                valor = datetime.strptime(texto, formato)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"hora ilegible {texto[:30]!r} (dd/mm/aaaa hh:mm)") from None
    return valor if timezone.is_aware(valor) else timezone.make_aware(valor)  # the agency's zone


def turnos_importar(*, contenido: bytes, usuario: Usuario) -> Importacion:
    """A roster as CSV (`codigo_interno,inicio,fin,funcion`; times in the agency's zone,
    dd/mm/aaaa hh:mm or ISO 8601), all or nothing: any bad line (unknown or out-of-scope
    officer, unreadable time, end before start, overlap) and nothing is stored; the errors name
    the lines. A commander imports for their own unidad only."""
    from efectivos.selectors import efectivos_visibles

    try:
        texto = contenido.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EntradaInvalida("El archivo no es texto UTF-8.", codigo="csv_invalido") from None
    lector = csv.DictReader(io.StringIO(texto))
    if not lector.fieldnames or not {"codigo_interno", "inicio", "fin"} <= {c.strip() for c in lector.fieldnames}:
        raise EntradaInvalida(
            f"Encabezado esperado: {','.join(CSV_COLUMNAS)}.",
            detalle={"columnas": list(CSV_COLUMNAS)},
            codigo="csv_invalido",
        )
    visibles = dict(efectivos_visibles(usuario=usuario).values_list("codigo_interno", "pk"))
    nuevos: list[tuple[int, Turno]] = []
    errores: list[str] = []
    for numero, fila in enumerate(lector, start=2):
        fila = {(k or "").strip(): (v or "").strip() for k, v in fila.items()}
        codigo = fila.get("codigo_interno", "")
        if codigo not in visibles:
            errores.append(f"línea {numero}: efectivo {codigo[:32]!r} inexistente o fuera de su alcance")
            continue
        try:
            inicio, fin = _hora(fila.get("inicio", "")), _hora(fila.get("fin", ""))
        except ValueError as exc:
            errores.append(f"línea {numero}: {exc}")
            continue
        if fin <= inicio:
            errores.append(f"línea {numero}: el fin debe ser posterior al inicio")
            continue
        turno = Turno(
            efectivo_id=visibles[codigo],
            inicio=inicio,
            fin=fin,
            funcion=fila.get("funcion", "")[:60],
            creado_por=usuario,
        )
        nuevos.append((numero, turno))
    # Overlaps inside the file and with shifts already stored, named by line.
    for i, (numero, t) in enumerate(nuevos):
        if any(o.efectivo_id == t.efectivo_id and o.inicio < t.fin and t.inicio < o.fin for _, o in nuevos[:i]):
            errores.append(f"línea {numero}: se superpone con otro turno del archivo")
        elif Turno.objects.filter(Q(efectivo_id=t.efectivo_id, inicio__lt=t.fin, fin__gt=t.inicio)).exists():
            errores.append(f"línea {numero}: se superpone con un turno ya cargado")
    if errores:
        raise EntradaInvalida(
            f"{len(errores)} errores: no se cargó ningún turno.",
            detalle={"errores": errores[:50]},
            codigo="csv_invalido",
        )
    try:
        with transaction.atomic():
            Turno.objects.bulk_create([t for _, t in nuevos])
    except IntegrityError:
        raise Conflicto("Un turno se superpone con otro cargado al mismo tiempo.", codigo="turno_superpuesto") from None
    return Importacion(len(nuevos), [])


# Off duty with a position still on file: nobody is on an active SOS or an open task, and no
# shift covers now. Their last position is forgotten, so the map shows them without one.
_SQL_OLVIDAR = """
UPDATE efectivos_efectivo e
SET ultima_posicion = NULL, ultima_precision_m = NULL, actualizado_en = now()
WHERE e.ultima_posicion IS NOT NULL AND NOT efectivo_de_servicio(e.id, now())
RETURNING e.id, e.unidad_id
"""


def posiciones_fuera_de_servicio_olvidar() -> int:
    """The beat, every minute: officers off duty lose their last position (the map shows them
    without one; their history keeps what was taken on duty). How many."""
    from django.db import connection

    from realtime.services import publish_many

    if not settings.SERVICIO_EXIGIDO:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SQL_OLVIDAR)
        filas = cursor.fetchall()
        if filas:
            unidades = sorted({u for _, u in filas})
            publish_many([_sin_posicion(u, sorted(e for e, de in filas if de == u)) for u in unidades])
    return len(filas)


def _sin_posicion(unidad_id: int, ids: list[int]):
    from realtime import eventos

    return eventos.efectivos_sin_posicion(unidad_id=unidad_id, efectivos=ids)
