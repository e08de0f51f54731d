"""Writes for geofences and alerts. `geocercas_evaluar` runs inside the ingest transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from efectivos.models import Efectivo, Usuario
from gad_project.exceptions import Conflicto, NoEncontrado
from geocercas import engine, metrics
from geocercas.engine import Cerca, EstadoPresencia, LecturaEval, Transicion
from geocercas.models import Alerta, Geocerca, Presencia, TipoAlerta
from mapa.services import capa_cambiada
from realtime import grupos
from realtime.services import Publicacion, publish, publish_many

_SQL_PRESENCIAS = """
SELECT p.efectivo_id, p.geocerca_id, p.dentro, p.desde, p.permanencia_alertada,
       g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s
FROM geocercas_presencia p
JOIN geocercas_geocerca g ON g.id = p.geocerca_id AND g.activa
WHERE p.efectivo_id = ANY(%s) AND p.dentro
"""

_SQL_PRESENCIAS_GUARDAR = """
INSERT INTO geocercas_presencia (efectivo_id, geocerca_id, dentro, desde, permanencia_alertada)
SELECT * FROM jsonb_to_recordset(%s::jsonb)
    AS t(efectivo_id bigint, geocerca_id bigint, dentro bool, desde timestamptz, permanencia_alertada bool)
ON CONFLICT (efectivo_id, geocerca_id) DO UPDATE
SET dentro = EXCLUDED.dentro, desde = EXCLUDED.desde,
    permanencia_alertada = EXCLUDED.permanencia_alertada
"""


def geocercas_evaluar(*, lecturas: Sequence[LecturaEval]) -> list[Alerta]:
    """Evaluate new readings against every active fence that applies, store presence changes and
    alerts, and publish the alerts. Must run inside the caller's transaction, with the efectivos'
    rows locked (posiciones_registrar does both)."""
    if not lecturas:
        return []
    muestras, cercas = engine.candidatos_evaluar(lecturas)
    presencias: dict[int, dict[int, EstadoPresencia]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_SQL_PRESENCIAS, [sorted({lec.efectivo_id for lec in lecturas})])
        for eid, gid, dentro, desde, alertada, nombre, tipo, sev, hist, perm in cursor.fetchall():
            presencias.setdefault(eid, {})[gid] = EstadoPresencia(dentro, desde, alertada)
            cercas.setdefault(gid, Cerca(gid, nombre, tipo, sev, hist, perm))

    transiciones = engine.transiciones_calcular(
        lecturas=lecturas, muestras=muestras, cercas=cercas, presencias=presencias
    )
    _presencias_guardar(presencias)
    return _alertas_crear([t for t in transiciones if t.alerta], cercas)


def _presencias_guardar(presencias: dict[int, dict[int, EstadoPresencia]]) -> None:
    filas = [
        {
            "efectivo_id": eid,
            "geocerca_id": gid,
            "dentro": st.dentro,
            "desde": st.desde,
            "permanencia_alertada": st.permanencia_alertada,
        }
        for eid, estados in presencias.items()
        for gid, st in estados.items()
        if st.cambiado
    ]
    if not filas:
        return
    with connection.cursor() as cursor:
        cursor.execute(_SQL_PRESENCIAS_GUARDAR, [orjson.dumps(filas).decode()])


def _alertas_crear(transiciones: Sequence[Transicion], cercas: dict[int, Cerca]) -> list[Alerta]:
    if not transiciones:
        return []
    alertas = Alerta.objects.bulk_create(
        [
            Alerta(
                tipo=t.tipo,
                efectivo_id=t.efectivo_id,
                geocerca_id=t.geocerca_id,
                posicion_id=t.lectura.posicion_id if t.lectura else None,
                punto=Point(t.lectura.lon, t.lectura.lat, srid=4326) if t.lectura else None,
                ocurrida_en=t.ocurrida_en,
                severidad=cercas[t.geocerca_id].severidad,
            )
            for t in transiciones
        ]
    )
    efectivos = {
        e.pk: e
        for e in Efectivo.objects.filter(pk__in={a.efectivo_id for a in alertas}).only(
            "id", "nombre", "apellido", "codigo_interno", "unidad_id"
        )
    }
    publish_many(
        Publicacion(
            "alerta.geocerca",
            alerta_datos(alerta, efectivos[alerta.efectivo_id], cercas[alerta.geocerca_id].nombre),
            grupos.de_efectivo(efectivo_id=alerta.efectivo_id, unidad_id=efectivos[alerta.efectivo_id].unidad_id),
        )
        for alerta in alertas
    )
    for alerta in alertas:
        metrics.ALERTAS.labels(tipo=alerta.tipo).inc()
    return alertas


def alerta_datos(alerta: Alerta, efectivo: Efectivo, geocerca_nombre: str) -> dict:
    return {
        "alerta_id": alerta.pk,
        "tipo": alerta.tipo,
        "severidad": alerta.severidad,
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "unidad_id": efectivo.unidad_id,
        "geocerca_id": alerta.geocerca_id,
        "geocerca": geocerca_nombre,
        "lat": alerta.punto.y if alerta.punto else None,
        "lon": alerta.punto.x if alerta.punto else None,
        "ocurrida_en": alerta.ocurrida_en.isoformat(),
    }


def permanencias_verificar(*, ahora: datetime | None = None) -> list[Alerta]:
    """Fire dwell alerts for stays that completed without a new reading (periodic task).

    Locks the efectivos concerned (SKIP LOCKED: one in the middle of an ingest is checked by that
    ingest itself, or by the next sweep), then re-reads their presence under the lock."""
    ahora = ahora or timezone.now()
    with transaction.atomic():
        candidatas = list(
            Presencia.objects.filter(
                dentro=True,
                permanencia_alertada=False,
                geocerca__activa=True,
                geocerca__permanencia_min_s__isnull=False,
            )
            .values_list("efectivo_id", flat=True)
            .distinct()
        )
        if not candidatas:
            return []
        bloqueados = list(
            Efectivo.objects.select_for_update(skip_locked=True)
            .filter(pk__in=candidatas)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        vencidas: list[Transicion] = []
        cercas: dict[int, Cerca] = {}
        alertadas: list[int] = []
        presencias = (
            Presencia.objects.filter(efectivo_id__in=bloqueados, dentro=True, permanencia_alertada=False)
            .filter(geocerca__activa=True, geocerca__permanencia_min_s__isnull=False)
            .select_related("geocerca")
        )
        for p in presencias:
            g = p.geocerca
            cerca = Cerca(g.pk, g.nombre, g.tipo, g.severidad, g.histeresis_m, g.permanencia_min_s)
            estado = EstadoPresencia(p.dentro, p.desde, p.permanencia_alertada)
            if engine.permanencia_vencida(cerca=cerca, estado=estado, ahora=ahora):
                cercas[g.pk] = cerca
                vencidas.append(Transicion(TipoAlerta.PERMANENCIA, p.efectivo_id, g.pk, None, ahora, True))
                alertadas.append(p.pk)
        Presencia.objects.filter(pk__in=alertadas).update(permanencia_alertada=True)
        return _alertas_crear(vencidas, cercas)


def alerta_reconocer(*, alerta_id: int, usuario: Usuario) -> Alerta:
    """Record who acknowledged an alert and when; tell everyone who sees it."""
    with transaction.atomic():
        try:
            alerta = Alerta.objects.select_for_update().select_related("efectivo").get(pk=alerta_id)
        except Alerta.DoesNotExist as exc:
            raise NoEncontrado("Alerta inexistente.") from exc
        if alerta.reconocida_en is not None:
            raise Conflicto(
                "La alerta ya fue reconocida.",
                detalle={"reconocida_por": alerta.reconocida_por_id, "reconocida_en": alerta.reconocida_en.isoformat()},
                codigo="alerta_ya_reconocida",
            )
        alerta.reconocida_por = usuario
        alerta.reconocida_en = timezone.now()
        alerta.save(update_fields=["reconocida_por", "reconocida_en"])
        publish(
            "alerta.reconocida",
            {
                "alerta_id": alerta.pk,
                "reconocida_por": usuario.get_full_name() or usuario.get_username(),
                "reconocida_en": alerta.reconocida_en.isoformat(),
            },
            grupos.de_efectivo(efectivo_id=alerta.efectivo_id, unidad_id=alerta.efectivo.unidad_id),
        )
    return alerta


def geocerca_guardar(*, geocerca: Geocerca, unidades: Iterable[int] | None = None) -> Geocerca:
    """Create or update a fence. Every change bumps `version` (tile caches are keyed by it);
    deactivating a fence forgets who was inside, so reactivating it starts fresh."""
    with transaction.atomic():
        if geocerca.pk:
            geocerca.version = F("version") + 1
        geocerca.save()
        geocerca.refresh_from_db(fields=["version"])
        if unidades is not None:
            geocerca.unidades.set(unidades)
        if not geocerca.activa:
            Presencia.objects.filter(geocerca=geocerca).delete()
        publish(
            "geocerca.actualizada",
            {"geocerca_id": geocerca.pk, "version": geocerca.version, "activa": geocerca.activa},
            [grupos.ADMINS, *(grupos.unidad(u) for u in geocerca.unidades.values_list("pk", flat=True))]
            if geocerca.unidades.exists()
            else [grupos.ADMINS, grupos.TODAS_LAS_UNIDADES],
        )
        transaction.on_commit(lambda: capa_cambiada(capa="geocercas"))
    return geocerca


def geocerca_eliminar(*, geocerca: Geocerca) -> None:
    with transaction.atomic():
        publish("geocerca.eliminada", {"geocerca_id": geocerca.pk}, [grupos.ADMINS, grupos.TODAS_LAS_UNIDADES])
        geocerca.delete()
        transaction.on_commit(lambda: capa_cambiada(capa="geocercas"))
