"""Every event type the domain emits: run the action, check the event's shape and audience."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from efectivos.services import efectivo_estado_cambiar
from geocercas.services import geocerca_eliminar, geocerca_guardar
from realtime.models import Evento
from tests.factories import EfectivoFactory, GeocercaFactory, UnidadFactory

pytestmark = pytest.mark.django_db


def _ultimo(tipo: str) -> Evento:
    return Evento.objects.filter(tipo=tipo).latest("id")


def test_cambiar_el_estado_de_un_efectivo_publica_efectivo_estado():
    efectivo = EfectivoFactory(estado="disponible")
    efectivo_estado_cambiar(efectivo=efectivo, estado="fuera_servicio")
    evento = _ultimo("efectivo.estado")
    assert evento.datos == {
        "efectivo_id": efectivo.pk,
        "unidad_id": efectivo.unidad_id,
        "anterior": "disponible",
        "estado": "fuera_servicio",
    }
    assert evento.audiencia == sorted(["rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"])


def test_un_estado_igual_no_publica_nada():
    efectivo = EfectivoFactory(estado="disponible")
    efectivo_estado_cambiar(efectivo=efectivo, estado="disponible")
    assert not Evento.objects.filter(tipo="efectivo.estado").exists()


def test_guardar_una_geocerca_de_unidad_publica_a_esa_unidad_con_su_version():
    unidad = UnidadFactory()
    geocerca = geocerca_guardar(geocerca=GeocercaFactory.build(), unidades=[unidad.pk])
    geocerca.activa = False
    geocerca_guardar(geocerca=geocerca)
    evento = _ultimo("geocerca.actualizada")
    assert evento.datos == {"geocerca_id": geocerca.pk, "version": 2, "activa": False}
    assert evento.audiencia == sorted(["rol.administrador", f"unidad.{unidad.pk}"])


def test_una_geocerca_general_se_publica_a_todos_los_comandantes_y_su_baja_tambien():
    geocerca = geocerca_guardar(geocerca=GeocercaFactory.build())
    assert _ultimo("geocerca.actualizada").audiencia == ["rol.administrador", "rol.comandante"]
    pk = geocerca.pk
    geocerca_eliminar(geocerca=geocerca)
    evento = _ultimo("geocerca.eliminada")
    assert evento.datos == {"geocerca_id": pk}
    assert evento.audiencia == ["rol.administrador", "rol.comandante"]


# --- the rest of the catalogue: one test per type, exact payload and audience -------------------


def _tarea(t) -> dict:
    return {
        "tarea_id": t.pk,
        "codigo": t.codigo,
        "titulo": t.titulo,
        "tipo": t.tipo,
        "prioridad": t.prioridad,
        "estado": t.estado,
        "unidad_id": t.unidad_id,
        "lat": t.ubicacion.y,
        "lon": t.ubicacion.x,
        "lugar": None,  # no street extract installed here (tests/mapa/test_lugares.py names it)
    }


def _mando(unidad_id: int, *efectivos: int) -> list[str]:
    return sorted(["rol.administrador", f"unidad.{unidad_id}", *(f"efectivo.{e}" for e in efectivos)])


def test_una_lectura_publica_posicion_actualizada_agrupada_por_unidad():
    from posiciones.services import LecturaNueva, posiciones_registrar
    from tests.factories import CENTRO

    uno, dos = EfectivoFactory(ultima_posicion_en=None), EfectivoFactory(ultima_posicion_en=None)
    otro = EfectivoFactory(unidad=uno.unidad, ultima_posicion_en=None)
    ahora = timezone.now()
    posiciones_registrar(
        lecturas=[
            LecturaNueva(uuid.uuid4(), e.pk, CENTRO[1], CENTRO[0], ahora - timedelta(seconds=i), 5.0)
            for i, e in enumerate([uno, dos, otro])
        ]
    )
    eventos = {e.datos["unidad_id"]: e for e in Evento.objects.filter(tipo="posicion.actualizada")}
    assert set(eventos) == {uno.unidad_id, dos.unidad_id}
    de_uno = eventos[uno.unidad_id]
    assert de_uno.audiencia == sorted(["rol.administrador", f"unidad.{uno.unidad_id}"])
    assert de_uno.datos["posiciones"][0] == {
        "efectivo_id": uno.pk,
        "estado": "disponible",
        "lat": CENTRO[1],
        "lon": CENTRO[0],
        "registrada_en": timezone.localtime(ahora).isoformat(),
        "precision_m": 5.0,
        "velocidad_kmh": None,
        "rumbo": None,
        "bateria_pct": None,
    }
    assert [p["efectivo_id"] for p in de_uno.datos["posiciones"]] == [uno.pk, otro.pk]


def test_reconocer_una_alerta_publica_alerta_reconocida(comandante_a, efectivo):
    from geocercas.services import alerta_reconocer
    from tests.factories import AlertaFactory

    alerta = AlertaFactory(efectivo=efectivo)
    alerta_reconocer(alerta_id=alerta.pk, usuario=comandante_a)
    evento = _ultimo("alerta.reconocida")
    alerta.refresh_from_db()
    assert evento.datos == {
        "alerta_id": alerta.pk,
        "reconocida_por": comandante_a.get_full_name() or comandante_a.username,
        "reconocida_en": timezone.localtime(alerta.reconocida_en).isoformat(),
    }
    assert evento.audiencia == _mando(efectivo.unidad_id, efectivo.pk)


def test_crear_editar_y_cancelar_una_tarea_publica_sus_eventos(comandante_a, unidad_a):
    from tareas import services

    tarea = services.tarea_crear(usuario=comandante_a, titulo="Ronda", unidad_id=unidad_a.pk, lat=-34.6, lon=-58.4)
    creada = _ultimo("tarea.creada")
    assert creada.datos == _tarea(tarea)
    assert creada.audiencia == _mando(unidad_a.pk)

    tarea = services.tarea_actualizar(tarea_id=tarea.pk, usuario=comandante_a, titulo="Ronda nocturna")
    actualizada = _ultimo("tarea.actualizada")
    assert actualizada.datos == _tarea(tarea)
    assert actualizada.audiencia == _mando(unidad_a.pk)

    tarea = services.tarea_transicionar(tarea_id=tarea.pk, usuario=comandante_a, accion="cancelar")
    estado = _ultimo("tarea.estado")
    assert estado.datos == {**_tarea(tarea), "anterior": "programada", "por_usuario_id": comandante_a.pk}
    assert estado.audiencia == _mando(unidad_a.pk)


def test_asignar_y_responder_publican_asignada_estado_y_asignacion(comandante_a, efectivo, unidad_a):
    from tareas import services
    from tests.factories import TareaFactory

    tarea = TareaFactory(unidad=unidad_a, estado="programada")
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, efectivos=[efectivo.pk])
    tarea.refresh_from_db()
    asignada = _ultimo("tarea.asignada")
    asignacion = tarea.asignaciones.get()
    assert asignada.datos == {
        **_tarea(tarea),
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "distancia_m": asignacion.distancia_m,
        "asignacion_id": asignacion.pk,
    }
    assert asignada.audiencia == _mando(unidad_a.pk, efectivo.pk)
    estado = _ultimo("tarea.estado")
    assert estado.datos == {**_tarea(tarea), "anterior": "programada", "por_usuario_id": comandante_a.pk}
    assert estado.audiencia == _mando(unidad_a.pk, efectivo.pk)

    services.asignacion_responder(tarea_id=tarea.pk, usuario=efectivo.usuario, acepta=False, redespachar=False)
    tarea.refresh_from_db()
    respuesta = _ultimo("tarea.asignacion")
    # Published as the answer was recorded, before the task fell back to programada.
    assert respuesta.datos == {
        **_tarea(tarea),
        "estado": "asignada",
        "efectivo_id": efectivo.pk,
        "respuesta": "rechazada",
    }
    assert respuesta.audiencia == _mando(unidad_a.pk, efectivo.pk)
    # Back to programada: the same builder, with who caused it.
    assert _ultimo("tarea.estado").datos["por_usuario_id"] == efectivo.usuario.pk


def test_quien_sale_de_servicio_pierde_su_posicion_y_el_mapa_lo_sabe():
    from efectivos import turnos
    from efectivos.models import Efectivo, Turno

    fuera = EfectivoFactory(turno=False)  # no shift: off duty, with a position on file
    adentro = EfectivoFactory(unidad=fuera.unidad)  # the factory's shift around now
    terminado = EfectivoFactory(unidad=fuera.unidad)
    Turno.objects.filter(efectivo=terminado).update(fin_real=timezone.now() - timedelta(minutes=1))
    assert turnos.posiciones_fuera_de_servicio_olvidar() == 2
    assert Efectivo.objects.get(pk=adentro.pk).ultima_posicion is not None
    assert Efectivo.objects.get(pk=fuera.pk).ultima_posicion is None
    evento = _ultimo("efectivo.sin_posicion")
    assert evento.datos == {"unidad_id": fuera.unidad_id, "efectivos": sorted([fuera.pk, terminado.pk])}
    assert evento.audiencia == _mando(fuera.unidad_id)
    assert turnos.posiciones_fuera_de_servicio_olvidar() == 0


def test_cada_tipo_del_catalogo_tiene_su_prueba():
    from realtime import eventos

    with open(__file__, encoding="utf-8") as f:
        fuente = f.read()
    assert [t for t in eventos.TIPOS if f'_ultimo("{t}")' not in fuente and f'tipo="{t}"' not in fuente] == []


def test_entrar_a_una_zona_restringida_publica_alerta_geocerca():
    from geocercas.models import Alerta
    from posiciones.services import LecturaNueva, posiciones_registrar
    from tests.factories import CENTRO, cuadrado, desplazar

    cerca = GeocercaFactory(nombre="Zona", tipo="restringida", geom=cuadrado(lado_m=200), severidad="critica")
    efectivo = EfectivoFactory(ultima_posicion_en=None)
    fuera = desplazar(*CENTRO, este_m=500)
    t0 = timezone.now() - timedelta(minutes=10)
    posiciones_registrar(
        lecturas=[
            LecturaNueva(uuid.uuid4(), efectivo.pk, fuera[1], fuera[0], t0, 5.0),
            LecturaNueva(uuid.uuid4(), efectivo.pk, CENTRO[1], CENTRO[0], t0 + timedelta(seconds=60), 5.0),
        ]
    )
    alerta = Alerta.objects.get()
    evento = _ultimo("alerta.geocerca")
    datos = {
        "alerta_id": alerta.pk,
        "tipo": "entrada",
        "severidad": "critica",
        "estado": "pendiente",
        "repeticiones": 1,
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "unidad_id": efectivo.unidad_id,
        "geocerca_id": cerca.pk,
        "geocerca": "Zona",
        "lat": CENTRO[1],
        "lon": CENTRO[0],
        "ocurrida_en": timezone.localtime(t0 + timedelta(seconds=60)).isoformat(),
        "ultima_en": timezone.localtime(t0 + timedelta(seconds=60)).isoformat(),
        "cruce": False,
        "silenciada": False,
        "lugar": None,  # no street extract installed here (tests/mapa/test_lugares.py names it)
    }
    assert evento.datos == datos
    assert evento.audiencia == _mando(efectivo.unidad_id, efectivo.pk)

    # Out and in again while the alert is open: the same alert, counted, not a new one.
    cerca_borde = desplazar(*CENTRO, este_m=30)
    posiciones_registrar(
        lecturas=[
            LecturaNueva(uuid.uuid4(), efectivo.pk, fuera[1], fuera[0], t0 + timedelta(seconds=120), 5.0),
            LecturaNueva(uuid.uuid4(), efectivo.pk, cerca_borde[1], cerca_borde[0], t0 + timedelta(seconds=180), 5.0),
        ]
    )
    assert Alerta.objects.count() == 1
    assert Evento.objects.filter(tipo="alerta.geocerca").count() == 1
    repetida = _ultimo("alerta.repetida")
    assert repetida.datos == {
        **datos,
        "repeticiones": 2,
        "lat": cerca_borde[1],
        "lon": cerca_borde[0],
        "ultima_en": timezone.localtime(t0 + timedelta(seconds=180)).isoformat(),
    }
    assert repetida.audiencia == _mando(efectivo.unidad_id, efectivo.pk)


def test_atender_y_resolver_una_alerta_publica_alerta_estado_con_quien_y_la_nota(comandante_a, efectivo):
    from geocercas.services import alerta_cambiar_estado
    from tests.factories import AlertaFactory

    alerta = AlertaFactory(efectivo=efectivo)
    alerta_cambiar_estado(alerta_id=alerta.pk, usuario=comandante_a, accion="atender", nota="Voy en camino")
    atendida = _ultimo("alerta.estado")
    alerta.refresh_from_db()
    quien = comandante_a.get_full_name() or comandante_a.username
    assert atendida.datos == {
        "alerta_id": alerta.pk,
        "estado": "en_atencion",
        "anterior": "pendiente",
        "por": quien,
        "en": timezone.localtime(alerta.atendida_en).isoformat(),
        "nota": "Voy en camino",
    }
    assert atendida.audiencia == _mando(efectivo.unidad_id, efectivo.pk)
    # Leaving "pendiente" is also an acknowledgement (the map's pending count relies on it).
    assert _ultimo("alerta.reconocida").datos["alerta_id"] == alerta.pk
    alerta_cambiar_estado(alerta_id=alerta.pk, usuario=comandante_a, accion="resolver", nota="Falsa alarma")
    resuelta = _ultimo("alerta.estado")
    assert (resuelta.datos["estado"], resuelta.datos["anterior"], resuelta.datos["nota"]) == (
        "resuelta",
        "en_atencion",
        "Falsa alarma",
    )
    assert Evento.objects.filter(tipo="alerta.reconocida").count() == 1


def test_una_alerta_sin_reconocer_se_escala_una_vez_al_mando_de_la_unidad(settings, efectivo):
    from geocercas.services import alertas_escalar
    from tests.factories import AlertaFactory

    settings.ALERTA_ESCALAR_MIN = 5
    alerta = AlertaFactory(efectivo=efectivo, tipo="entrada", severidad="critica")
    assert alertas_escalar(ahora=alerta.creada_en + timedelta(minutes=4)) == []
    assert alertas_escalar(ahora=alerta.creada_en + timedelta(minutes=6)) == [alerta.pk]
    assert alertas_escalar(ahora=alerta.creada_en + timedelta(minutes=60)) == []  # once
    evento = _ultimo("alerta.escalada")
    assert evento.datos == {
        "alerta_id": alerta.pk,
        "tipo": "entrada",
        "severidad": "critica",
        "repeticiones": 1,
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "unidad_id": efectivo.unidad_id,
        "geocerca_id": alerta.geocerca_id,
        "geocerca": alerta.geocerca.nombre,
        "pendiente_desde": timezone.localtime(alerta.creada_en).isoformat(),
        "minutos": 6,
        "notificar_a": [],
    }
    assert evento.audiencia == _mando(efectivo.unidad_id)  # the commanders, not the efectivo


def test_silenciar_una_geocerca_publica_geocerca_silenciada_a_su_mando(comandante_a, unidad_a):
    from geocercas.services import geocerca_silenciar
    from tests.factories import GeocercaFactory

    cerca = GeocercaFactory(nombre="Zona")
    cerca.unidades.add(unidad_a)
    cerca = geocerca_silenciar(geocerca=cerca, usuario=comandante_a, minutos=30, motivo="Simulacro")
    evento = _ultimo("geocerca.silenciada")
    assert evento.datos == {
        "geocerca_id": cerca.pk,
        "geocerca": "Zona",
        "hasta": timezone.localtime(cerca.silenciada_hasta).isoformat(),
        "por": comandante_a.get_full_name() or comandante_a.username,
        "motivo": "Simulacro",
    }
    assert set(evento.audiencia) == {"rol.administrador", f"unidad.{unidad_a.pk}"}


def test_activar_y_resolver_un_sos_publica_sos_activado_y_sos_resuelto(comandante_a, efectivo):
    from django.contrib.gis.geos import Point

    from seguridad.services import sos_activar, sos_resolver
    from tests.factories import CENTRO, desplazar

    refuerzo = EfectivoFactory(
        unidad=efectivo.unidad, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=200), srid=4326)
    )
    sos, _, _ = sos_activar(usuario=efectivo.usuario, lat=CENTRO[1], lon=CENTRO[0])
    evento = _ultimo("sos.activado")
    audiencia = sorted(["rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"])
    assert evento.datos == {
        "sos_id": sos.pk,
        "estado": "activo",
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "unidad_id": efectivo.unidad_id,
        "lat": pytest.approx(CENTRO[1]),
        "lon": pytest.approx(CENTRO[0]),
        "lugar": None,  # no street extract installed here: the banner shows coordinates
        "tarea_id": sos.tarea_id,
        "asignados": [refuerzo.pk],
        "creado_en": timezone.localtime(sos.creado_en).isoformat(),
        "resuelto_en": None,
        "resuelto_por": None,
        "nota": "",
    }
    assert evento.audiencia == audiencia
    sos_resolver(sos_id=sos.pk, usuario=comandante_a, nota="Falsa alarma")
    evento = _ultimo("sos.resuelto")
    sos.refresh_from_db()
    assert {k: evento.datos[k] for k in ("sos_id", "estado", "resuelto_por", "nota", "asignados")} == {
        "sos_id": sos.pk,
        "estado": "resuelto",
        "resuelto_por": "comandante_a",
        "nota": "Falsa alarma",
        "asignados": [],
    }
    assert evento.datos["resuelto_en"] == timezone.localtime(sos.resuelto_en).isoformat()
    assert evento.audiencia == audiencia


def test_un_silencio_publica_sin_reporte_activado_y_al_volver_sin_reporte_cerrado(settings):
    from seguridad.services import sin_reporte_revisar

    settings.SIN_REPORTE_MIN = 10
    ahora = timezone.now()
    efectivo = EfectivoFactory(ultima_posicion_en=ahora - timedelta(minutes=15))
    sin_reporte_revisar(ahora=ahora)
    evento = _ultimo("sin_reporte.activado")
    aviso_id = evento.datos["aviso_id"]
    esperado = {
        "aviso_id": aviso_id,
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "unidad_id": efectivo.unidad_id,
        "ultima_posicion_en": timezone.localtime(efectivo.ultima_posicion_en).isoformat(),
        "lat": pytest.approx(efectivo.ultima_posicion.y),
        "lon": pytest.approx(efectivo.ultima_posicion.x),
        "abierto": True,
        "contacto_en": None,  # no device in contact: dark, not merely without a fix
    }
    assert evento.datos == esperado
    audiencia = sorted(["rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"])
    assert evento.audiencia == audiencia
    efectivo.ultima_posicion_en = ahora
    efectivo.save()
    sin_reporte_revisar(ahora=ahora + timedelta(minutes=1))
    cerrado = _ultimo("sin_reporte.cerrado")
    assert cerrado.datos == {**esperado, "abierto": False}
    assert cerrado.audiencia == audiencia


def test_un_silencio_con_el_telefono_en_contacto_dice_que_falta_la_posicion_y_no_el_equipo(settings):
    """A phone whose heartbeats or rejected readings still arrive (indoors, no GPS) is in contact:
    the "sin reporte" says so, and one whose phone went dark does not."""
    from efectivos.models import Dispositivo
    from seguridad.services import sin_reporte_revisar

    settings.SIN_REPORTE_MIN = 10
    ahora = timezone.now()
    con_equipo = EfectivoFactory(ultima_posicion_en=ahora - timedelta(minutes=15))
    apagado = EfectivoFactory(ultima_posicion_en=ahora - timedelta(minutes=15))
    Dispositivo.objects.create(
        efectivo=con_equipo, tipo="traccar", credencial_hash="a" * 64, ultimo_contacto_en=ahora - timedelta(minutes=1)
    )
    Dispositivo.objects.create(
        efectivo=apagado, tipo="traccar", credencial_hash="b" * 64, ultimo_contacto_en=ahora - timedelta(minutes=15)
    )
    sin_reporte_revisar(ahora=ahora)
    por_efectivo = {
        e.datos["efectivo_id"]: e.datos["contacto_en"] for e in Evento.objects.filter(tipo="sin_reporte.activado")
    }
    assert por_efectivo[con_equipo.pk] == timezone.localtime(ahora - timedelta(minutes=1)).isoformat()
    assert por_efectivo[apagado.pk] is None


def test_un_mensaje_publica_mensaje_nuevo_a_sus_destinatarios_y_mensaje_entrega_al_mando(comandante_a, unidad_a):
    from efectivos.models import Rol
    from mensajes.services import Destinatarios, entrega_marcar, mensaje_enviar, mensaje_responder
    from tests.factories import UsuarioFactory

    uno = EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol=Rol.EFECTIVO))
    otro = EfectivoFactory(unidad=unidad_a, usuario=UsuarioFactory(rol=Rol.EFECTIVO))
    mensaje = mensaje_enviar(usuario=comandante_a, texto="Atentos", para=Destinatarios(unidad_id=unidad_a.pk))
    evento = _ultimo("mensaje.nuevo")
    assert evento.datos == {
        "mensaje_id": mensaje.pk,
        "texto": "Atentos",
        "urgente": False,
        "autor": comandante_a.get_full_name(),
        "creado_en": mensaje.creado_en.astimezone(timezone.get_default_timezone()).isoformat(),
    }
    assert evento.audiencia == sorted([f"efectivo.{uno.pk}", f"efectivo.{otro.pk}"])  # nobody else
    entrega = entrega_marcar(usuario=uno.usuario, mensaje_id=mensaje.pk, paso="leido")
    evento = _ultimo("mensaje.entrega")
    iso = entrega.leido_en.astimezone(timezone.get_default_timezone()).isoformat()
    assert evento.datos == {
        "mensaje_id": mensaje.pk,
        "efectivo_id": uno.pk,
        "efectivo": f"{uno.apellido}, {uno.nombre}",
        "unidad_id": unidad_a.pk,
        "entregado_en": iso,
        "leido_en": iso,
        "confirmado_en": None,
        "respuesta": None,
    }
    assert evento.audiencia == sorted(["rol.administrador", f"unidad.{unidad_a.pk}"])
    mensaje_responder(usuario=otro.usuario, mensaje_id=mensaje.pk, texto="Recibido")
    assert _ultimo("mensaje.entrega").datos["respuesta"] == "Recibido"


def test_un_control_de_bienestar_publica_bienestar_estado_y_bienestar_pedido(comandante_a, efectivo, settings):
    from seguridad.services import bienestar_iniciar, bienestar_revisar

    settings.BIENESTAR_FACTOR_NOCHE_SOLO = 1
    [control] = bienestar_iniciar(usuario=comandante_a, intervalo_min=15, efectivo_id=efectivo.pk)
    iniciado = _ultimo("bienestar.estado")
    zona = timezone.get_default_timezone()
    assert iniciado.datos == {
        "control_id": control.pk,
        "efectivo_id": efectivo.pk,
        "efectivo": f"{efectivo.apellido}, {efectivo.nombre}",
        "unidad_id": efectivo.unidad_id,
        "estado": "al_dia",
        "intervalo_min": 15,
        "factores": [],
        "proximo_en": control.proximo_en.astimezone(zona).isoformat(),
        "pedido_en": None,
        "vence_en": None,
        "ultima_respuesta_en": None,
        "fallos_seguidos": 0,
        "sos_id": None,
    }
    audiencia = sorted(["rol.administrador", f"unidad.{efectivo.unidad_id}", f"efectivo.{efectivo.pk}"])
    assert iniciado.audiencia == audiencia
    ahora = timezone.now() + timedelta(minutes=16)
    bienestar_revisar(ahora=ahora)
    pedido = _ultimo("bienestar.pedido")
    assert (pedido.datos["estado"], pedido.datos["pedido_en"], pedido.audiencia) == (
        "pedido",
        ahora.astimezone(zona).isoformat(),
        audiencia,
    )
    assert (
        pedido.datos["vence_en"]
        == (ahora + timedelta(minutes=settings.BIENESTAR_PLAZO_MIN)).astimezone(zona).isoformat()
    )


def test_una_tarea_sin_nadie_en_rango_publica_tarea_sin_cubrir(comandante_a, unidad_a, settings):
    from django.contrib.gis.geos import Point

    from tareas import services
    from tests.factories import CENTRO

    settings.DESPACHO_REFUERZOS = False
    EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*CENTRO, srid=4326))
    tarea = services.tarea_crear(
        usuario=comandante_a, titulo="Corte", unidad_id=unidad_a.pk, lat=CENTRO[1], lon=CENTRO[0]
    )
    services.tarea_asignar(tarea_id=tarea.pk, usuario=comandante_a, cercanos=1)
    services.asignaciones_vencer(ahora=timezone.now() + timedelta(hours=1))
    tarea.refresh_from_db()
    evento = _ultimo("tarea.sin_cubrir")
    assert evento.datos == {**_tarea(tarea), "faltan": 1, "radio_m": float(settings.DESPACHO_RADIO_MAX_M)}
    assert evento.audiencia == _mando(unidad_a.pk)
    vencida = _ultimo("tarea.asignacion")
    assert vencida.datos["respuesta"] == "vencida"
