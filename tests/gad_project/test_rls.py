"""Row-level security, the second wall (gad_project.rls, migration gad_project 0001): queries that
forget to scope themselves, run as the web servers run them, still see only what the context
allows; with no context, nothing."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from auditoria.models import Registro
from efectivos.models import Dispositivo, Efectivo, Posicion, Turno
from gad_project import rls
from geocercas.models import Alerta
from mensajes.models import Entrega, Mensaje, Respuesta
from seguridad.models import Sos
from tareas.models import Asignacion, Tarea, TareaEvento
from tests.factories import AlertaFactory, EfectivoFactory, PosicionFactory, TareaFactory, UsuarioFactory

pytestmark = pytest.mark.django_db

PROTEGIDOS = [
    Efectivo,
    Posicion,
    Dispositivo,
    Turno,
    Alerta,
    Sos,
    Tarea,
    Asignacion,
    TareaEvento,
    Mensaje,
    Entrega,
    Respuesta,
]


def _mundo_de(unidad, comandante) -> dict:
    """One of everything personal, in one unidad."""
    efectivo = EfectivoFactory(unidad=unidad, usuario=UsuarioFactory(rol="efectivo"))
    tarea = TareaFactory(unidad=unidad)
    mensaje = Mensaje.objects.create(autor=comandante, texto="Reunión 18 h", destino="unidad", unidad=unidad)
    return {
        Efectivo: efectivo.pk,
        Posicion: PosicionFactory(efectivo=efectivo).pk,
        Dispositivo: Dispositivo.objects.create(efectivo=efectivo, tipo="traccar", credencial_hash=uuid.uuid4().hex).pk,
        Turno: Turno.objects.get(efectivo=efectivo).pk,
        Alerta: AlertaFactory(efectivo=efectivo).pk,
        Sos: Sos.objects.create(efectivo=efectivo, fuente="app").pk,
        Tarea: tarea.pk,
        Asignacion: Asignacion.objects.create(tarea=tarea, efectivo=efectivo, estado="aceptada").pk,
        TareaEvento: TareaEvento.objects.create(tarea=tarea, estado_nuevo="pendiente").pk,
        Mensaje: mensaje.pk,
        Entrega: Entrega.objects.create(mensaje=mensaje, efectivo=efectivo).pk,
        Respuesta: Respuesta.objects.create(mensaje=mensaje, efectivo=efectivo, texto="Recibido").pk,
        "usuario": efectivo.usuario,
    }


@pytest.fixture
def mundos(unidad_a, unidad_b, comandante_a, comandante_b):
    return {"a": _mundo_de(unidad_a, comandante_a), "b": _mundo_de(unidad_b, comandante_b)}


def _ids(modelo, mundos) -> set[int]:
    """The rows of `modelo` among both worlds' that an unscoped query returns."""
    nuestros = {mundos["a"][modelo], mundos["b"][modelo]}
    return set(modelo.objects.filter(pk__in=nuestros).values_list("pk", flat=True))


@pytest.mark.parametrize("modelo", PROTEGIDOS, ids=lambda m: m._meta.db_table)
def test_una_consulta_sin_alcance_de_un_comandante_devuelve_solo_su_unidad(mundos, comandante_a, pared, modelo):
    with rls.usar(rls.de_usuario(comandante_a)):
        assert _ids(modelo, mundos) == {mundos["a"][modelo]}


@pytest.mark.parametrize("modelo", PROTEGIDOS, ids=lambda m: m._meta.db_table)
def test_sin_contexto_ninguna_fila_y_un_administrador_todas(mundos, admin, pared, modelo):
    with rls.usar(rls.NINGUNO):
        assert _ids(modelo, mundos) == set()
    with rls.usar(rls.de_usuario(admin)):
        assert _ids(modelo, mundos) == {mundos["a"][modelo], mundos["b"][modelo]}


def test_un_efectivo_ve_lo_suyo_y_no_lo_de_un_companero(mundos, unidad_a, pared):
    companero = EfectivoFactory(unidad=unidad_a)
    PosicionFactory(efectivo=companero)
    yo = mundos["a"]
    with rls.usar(rls.de_usuario(yo["usuario"])):
        assert set(Efectivo.objects.values_list("pk", flat=True)) == {yo[Efectivo]}
        assert set(Posicion.objects.values_list("pk", flat=True)) == {yo[Posicion]}
        # Their task, and the message that reached them.
        assert set(Tarea.objects.values_list("pk", flat=True)) == {yo[Tarea]}
        assert set(Mensaje.objects.values_list("pk", flat=True)) == {yo[Mensaje]}


def test_un_comandante_no_escribe_en_otra_unidad(mundos, comandante_a, unidad_b, pared):
    """The policies check writes too: a row the context could not see cannot be written."""
    with rls.usar(rls.de_usuario(comandante_a)):
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            TareaFactory(unidad=unidad_b)
        # Another unidad's rows are not there to update or delete.
        assert Tarea.objects.filter(pk=mundos["b"][Tarea]).update(titulo="x") == 0
        assert Posicion.objects.filter(pk=mundos["b"][Posicion]).delete()[0] == 0
    assert Tarea.objects.get(pk=mundos["b"][Tarea]).titulo != "x"


def test_el_registro_de_accesos_se_ve_por_unidad_y_el_efectivo_ve_quien_lo_consulto(
    mundos, comandante_a, comandante_b, pared
):
    from auditoria.registro import acceso

    efectivo_a = Efectivo.objects.get(pk=mundos["a"][Efectivo])
    with rls.usar(rls.de_usuario(comandante_a)):
        acceso(usuario=comandante_a, objeto=efectivo_a, que="recorrido", interfaz="api", direccion=None)
    with rls.usar(rls.de_usuario(comandante_b)):
        assert not Registro.objects.filter(object_id=efectivo_a.pk, action=Registro.Action.ACCESS).exists()
    with rls.usar(rls.de_usuario(mundos["a"]["usuario"])):
        assert Registro.objects.filter(
            object_id=efectivo_a.pk, action=Registro.Action.ACCESS, actor=comandante_a
        ).exists()
    with rls.usar(rls.de_usuario(comandante_a)):
        assert Registro.objects.filter(object_id=efectivo_a.pk, action=Registro.Action.ACCESS).exists()


@pytest.mark.django_db(transaction=True)
def test_el_rol_de_la_web_sin_contexto_no_ve_nada_aun_en_su_propia_conexion(unidad_a):
    """Not through Django at all: the runtime role's own connection, nothing set."""
    EfectivoFactory(unidad=unidad_a)
    d = connection.settings_dict
    with psycopg.connect(
        host=d["HOST"], port=d["PORT"], dbname=d["NAME"], user=settings.DB_USUARIO_WEB, password=settings.DB_CLAVE_WEB
    ) as conn:
        assert conn.execute("SELECT count(*) FROM efectivos_efectivo").fetchone()[0] == 0
        assert (
            conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            is False
        )
        # Nor can it switch the wall off: the tables are not its own.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE efectivos_efectivo DISABLE ROW LEVEL SECURITY")
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM efectivos_efectivo")
        assert c.fetchone()[0] >= 1


def test_el_sos_de_un_efectivo_despacha_a_companeros_que_el_no_ve(api, efectivo, unidad_a, pared):
    """The officer in danger sees only themself; the emergency's dispatch sees whom it must."""
    from django.contrib.gis.geos import Point

    from tests.factories import CENTRO, desplazar

    cerca = EfectivoFactory(unidad=unidad_a, ultima_posicion=Point(*desplazar(*CENTRO, norte_m=300), srid=4326))
    r = api(efectivo.usuario).post("/api/v1/sos/", {"lat": CENTRO[1], "lon": CENTRO[0]}, format="json")
    assert r.status_code == 201, r.json()
    with rls.usar(rls.de_usuario(efectivo.usuario)):
        assert not Efectivo.objects.filter(pk=cerca.pk).exists()
    tarea = Tarea.objects.get(pk=r.json()["tarea"])
    assert list(tarea.asignaciones.values_list("efectivo_id", flat=True)) == [cerca.pk]


def test_bajo_las_politicas_la_tesela_de_efectivos_usa_su_indice_espacial(comandante_a, pared):
    """`&&` is LEAKPROOF (migration gad_project 0002): the policies do not turn the tile's bbox
    test into a scan of every efectivo."""
    from mapa.tiles import _SQL_EFECTIVOS

    with rls.usar(rls.de_usuario(comandante_a)), transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL enable_seqscan = off")  # a small table: ask for the index if it may be used
        c.execute("EXPLAIN " + _SQL_EFECTIVOS, {"z": 14, "x": 5523, "y": 9868, "unidad": None})
        plan = "\n".join(fila[0] for fila in c.fetchall())
    assert "efectivos_efectivo_ultima_posicion" in plan and "Seq Scan on efectivos_efectivo" not in plan, plan
