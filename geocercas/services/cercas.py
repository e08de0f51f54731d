"""Fences written: created, changed and deleted through one service for the API and the admin, and
a corridor's area computed from its route."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon
from django.db import connection, transaction
from django.db.models import F

from efectivos.alcance import exigir_mando
from efectivos.models import Usuario
from gad_project.exceptions import EntradaInvalida, NoEncontrado, NoPermitido
from gad_project.tiempo import iso
from geocercas.models import Geocerca, Presencia, TipoGeocerca
from geocercas.selectors import geocerca_editable
from mapa.services import capa_cambiada
from realtime import eventos
from realtime.services import publish_many


def _unidades_permitidas(usuario: Usuario, geocerca: Geocerca, unidades: Iterable[int] | None) -> list[int] | None:
    """Admins scope a fence to any unidades; a commander creates and edits only fences of exactly
    their own unidad (and a fence they create with no unidad is theirs)."""
    alcance = exigir_mando(usuario, "Solo comandantes o administradores modifican geocercas.")
    pedidas = None if unidades is None else list(unidades)
    if alcance.todo:
        return pedidas
    if geocerca.pk and not geocerca_editable(usuario=usuario, geocerca=geocerca):
        raise NoPermitido("Solo puede modificar geocercas de su propia unidad.")
    if pedidas and pedidas != [alcance.unidad_id]:
        raise NoPermitido("Un comandante solo crea geocercas para su propia unidad.")
    if geocerca.pk and pedidas is None:
        return None
    assert alcance.unidad_id is not None
    return [alcance.unidad_id]


def _destinatarios_permitidos(usuario: Usuario, geocerca: Geocerca, efectivos: list[int] | None) -> None:
    """A fence for some efectivos names only efectivos in the writer's scope; a fence for a task,
    only a task of their unidad. Refused naming who or what is out of it."""
    alcance = exigir_mando(usuario, "Solo comandantes o administradores modifican geocercas.")
    if alcance.todo:
        return
    if efectivos:
        from efectivos.selectors import efectivos_visibles

        propios = set(efectivos_visibles(usuario=usuario).filter(pk__in=efectivos).values_list("pk", flat=True))
        if ajenos := sorted(set(efectivos) - propios):
            raise NoPermitido("Hay efectivos fuera de su unidad.", detalle={"efectivos": ajenos})
    tarea = geocerca.tarea
    if tarea is not None and tarea.unidad_id != alcance.unidad_id:
        raise NoPermitido("La tarea es de otra unidad.", detalle={"tarea": [geocerca.tarea_id]})


def _avisados_permitidos(usuario: Usuario | None, notificar_a: list[int]) -> None:
    """A fence's own escalation list names commanders or admins, and a commander names only
    those of their own unidad (or admins)."""
    from django.db.models import Q

    from efectivos.models import Rol

    mandos = Usuario.objects.filter(pk__in=notificar_a, is_active=True).filter(
        Q(rol__in=[Rol.COMANDANTE, Rol.ADMINISTRADOR]) | Q(is_superuser=True)
    )
    if no_mando := sorted(set(notificar_a) - set(mandos.values_list("pk", flat=True))):
        raise EntradaInvalida("Solo se avisa a comandantes o administradores.", detalle={"notificar_a": no_mando})
    if usuario is None:
        return
    alcance = exigir_mando(usuario, "Solo comandantes o administradores modifican geocercas.")
    if alcance.todo:
        return
    ajenos = mandos.filter(rol=Rol.COMANDANTE, is_superuser=False).exclude(unidad_id=alcance.unidad_id or 0)
    if fuera := sorted(ajenos.values_list("pk", flat=True)):
        raise NoPermitido("Hay comandantes de otra unidad en la lista.", detalle={"notificar_a": fuera})


def geocerca_guardar(
    *,
    geocerca: Geocerca,
    unidades: Iterable[int] | None = None,
    efectivos: Iterable[int] | None = None,
    notificar_a: Iterable[int] | None = None,
    usuario: Usuario | None = None,
) -> Geocerca:
    """Create or update a fence, as `usuario` (whose scope is enforced; None for the system: the
    demo loader). `efectivos` (None: unchanged) makes it apply to them only; `geocerca.tarea`, to
    that task's assignees only. Every change bumps `version` (tile caches are keyed by it);
    deactivating a fence forgets who was inside, so reactivating it starts fresh."""
    efectivos = None if efectivos is None else list(efectivos)
    notificar_a = None if notificar_a is None else list(notificar_a)
    if usuario is not None:
        unidades = _unidades_permitidas(usuario, geocerca, unidades)
        _destinatarios_permitidos(usuario, geocerca, efectivos)
    if notificar_a:
        _avisados_permitidos(usuario, notificar_a)
    if geocerca.tarea_id is not None and (
        efectivos or (efectivos is None and geocerca.pk and geocerca.efectivos.exists())
    ):
        raise EntradaInvalida(
            "Una geocerca se aplica a los asignados de una tarea o a efectivos elegidos, no a ambos.",
            detalle={"tarea": ["Quite la tarea o los efectivos."]},
        )
    geocerca.clean()
    if geocerca.tipo == TipoGeocerca.CORREDOR:
        assert geocerca.ruta is not None and geocerca.ancho_m is not None  # clean() checked
        geocerca.geom = corredor_area(geocerca.ruta, geocerca.ancho_m)
    else:
        geocerca.ruta = geocerca.ancho_m = None
    with transaction.atomic():
        if geocerca.pk:
            # Locked first: a fence deleted meanwhile (another request) is a 404, not a 500 from
            # Django falling back to an INSERT of the F() expression.
            if not Geocerca.objects.select_for_update().filter(pk=geocerca.pk).exists():
                raise NoEncontrado("Geocerca inexistente.")
            geocerca.version = F("version") + 1
            geocerca.save(force_update=True)
        else:
            geocerca.save()
        geocerca.refresh_from_db(fields=["version"])
        if unidades is not None:
            geocerca.unidades.set(unidades)
        if efectivos is not None:
            geocerca.efectivos.set(efectivos)
        if notificar_a is not None:
            geocerca.notificar_a.set(notificar_a)
        if not geocerca.activa:
            Presencia.objects.filter(geocerca=geocerca).delete()
        publish_many(
            [
                eventos.geocerca_actualizada(
                    datos={"geocerca_id": geocerca.pk, "version": geocerca.version, "activa": geocerca.activa},
                    unidades=list(geocerca.unidades.values_list("pk", flat=True)),
                )
            ]
        )
        transaction.on_commit(lambda: capa_cambiada(capa="geocercas"))
    return geocerca


def corredor_area(ruta: LineString, ancho_m: float) -> MultiPolygon:
    """The area of a corridor: `ancho_m` wide around its route, in metres on the ground (PostGIS's
    geography buffer), round at the ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(ST_Multi(ST_Buffer(ST_GeomFromWKB(%s, 4326)::geography, %s)::geometry))",
            [bytes(ruta.wkb), ancho_m / 2],
        )
        area = GEOSGeometry(memoryview(cursor.fetchone()[0]), srid=4326)
    assert isinstance(area, MultiPolygon)
    return area


def geocerca_eliminar(*, geocerca: Geocerca, usuario: Usuario | None = None) -> None:
    if usuario is not None:
        exigir_mando(usuario, "Solo comandantes o administradores eliminan geocercas.")
        if not geocerca_editable(usuario=usuario, geocerca=geocerca):
            raise NoPermitido("Solo puede eliminar geocercas de su propia unidad.")
    with transaction.atomic():
        unidades = list(geocerca.unidades.values_list("pk", flat=True))
        publish_many([eventos.geocerca_eliminada(geocerca_id=geocerca.pk, unidades=unidades)])
        geocerca.delete()
        transaction.on_commit(lambda: capa_cambiada(capa="geocercas"))


def geocerca_silenciar(*, geocerca: Geocerca, usuario: Usuario, minutos: int, motivo: str = "") -> Geocerca:
    """Silence a fence for `minutos` (1 to GEOCERCA_SILENCIO_MAX_MIN; 0 lifts it): its alerts are
    still recorded and listed, without sound, Telegram or escalation. Who, until when and why is
    saved (audited with the fence) and told to every commander who sees it. A commander silences
    only their own unidad's fences."""
    from django.conf import settings
    from django.utils import timezone

    if not geocerca_editable(usuario=usuario, geocerca=geocerca):
        raise NoPermitido("Solo puede silenciar geocercas de su propia unidad.")
    maximo = settings.GEOCERCA_SILENCIO_MAX_MIN
    if isinstance(minutos, bool) or not isinstance(minutos, int) or not 0 <= minutos <= maximo:
        raise EntradaInvalida(
            f"Se silencia de 1 a {maximo} minutos (0 lo levanta).", detalle={"minutos": [f"Entre 0 y {maximo}."]}
        )
    motivo = (motivo or "").strip()
    if minutos and not motivo:
        raise EntradaInvalida("Diga por qué la silencia.", detalle={"motivo": ["Requerido al silenciar."]})
    if len(motivo) > 200:
        raise EntradaInvalida("El motivo es demasiado largo.", detalle={"motivo": ["Hasta 200 caracteres."]})
    with transaction.atomic():
        geocerca = Geocerca.objects.select_for_update().get(pk=geocerca.pk)
        if minutos:
            geocerca.silenciada_hasta = timezone.now() + timedelta(minutes=minutos)
            geocerca.silenciada_por, geocerca.silencio_motivo = usuario, motivo
        else:
            geocerca.silenciada_hasta, geocerca.silenciada_por, geocerca.silencio_motivo = None, usuario, ""
        geocerca.save(update_fields=["silenciada_hasta", "silenciada_por", "silencio_motivo", "actualizada_en"])
        publish_many(
            [
                eventos.geocerca_silenciada(
                    datos={
                        "geocerca_id": geocerca.pk,
                        "geocerca": geocerca.nombre,
                        "hasta": None if geocerca.silenciada_hasta is None else iso(geocerca.silenciada_hasta),
                        "por": usuario.get_full_name() or usuario.get_username(),
                        "motivo": geocerca.silencio_motivo,
                    },
                    unidades=list(geocerca.unidades.values_list("pk", flat=True)),
                )
            ]
        )
    return geocerca
