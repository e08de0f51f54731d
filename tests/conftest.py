"""Named personas and API clients. Everything runs against the real PostGIS and Redis."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from efectivos.models import Rol
from tests.factories import EfectivoFactory, UnidadFactory, UsuarioFactory

CLAVE = "clave-segura-123"

# Fixtures that start real processes (Chromium, a live server, a cluster of its own). Under
# `make test-rapido` (GAD_RAPIDO=1) their tests are skipped at collection, before any fixture has
# loaded the demo or flushed the database; what starts a process some other way is skipped when it
# does (tests/vivo.py).
_VIVOS = frozenset({"navegador", "servidor", "servidor_replay_corto", "cluster", "primario", "bot"})


def pytest_collection_modifyitems(config, items) -> None:
    rapido = os.environ.get("GAD_RAPIDO") == "1"
    salto = pytest.mark.skip(reason="starts real processes: run by make test, not make test-rapido")
    for item in items:
        if "navegador" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
        if rapido and _VIVOS.intersection(item.fixturenames):
            item.add_marker(salto)


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.ScryptRapido", "django.contrib.auth.hashers.ScryptPasswordHasher"]


@pytest.fixture(autouse=True)
def _limites_de_cero():
    """Each test starts with no request counted against anyone's limits (gad_project.limites)."""
    from django.conf import settings
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    claves = list(redis.scan_iter(match=f"{settings.REDIS_PREFIX}:limite:*", count=1000))
    if claves:
        redis.delete(*claves)


def motivo_en_sesion(cliente, efectivo, motivo: str = "supervision") -> None:
    """The reason for opening this officer's record in the admin, already given in this session."""
    from auditoria.web import SESION_MOTIVOS

    sesion = cliente.session
    sesion[SESION_MOTIVOS] = {**sesion.get(SESION_MOTIVOS, {}), str(efectivo.pk): {"motivo": motivo, "detalle": ""}}
    sesion.save()


@pytest.fixture(autouse=os.environ.get("GAD_PARED") == "1")
def pared(request):
    """From here on, this test's statements run as the web servers run them: as the runtime role,
    which neither owns the tables nor bypasses their policies (gad_project.rls). The test's
    transaction ends it. (GAD_PARED=1: every test in a transaction, from its first fixture.)"""
    from django.conf import settings
    from django.db import connection

    marca = request.node.get_closest_marker("django_db")
    if marca is None or marca.kwargs.get("transaction"):
        yield
        return
    request.getfixturevalue("db")
    with connection.cursor() as c:
        c.execute(f"SET LOCAL ROLE {settings.DB_USUARIO_WEB}")
    connection.rls_exenta = False
    yield
    connection.rls_exenta = None


@pytest.fixture
def unidad_a():
    return UnidadFactory(codigo="UA", nombre="Unidad A")


@pytest.fixture
def unidad_b():
    return UnidadFactory(codigo="UB", nombre="Unidad B")


@pytest.fixture
def admin(db):
    return UsuarioFactory(username="admin", rol=Rol.ADMINISTRADOR, is_staff=True, is_superuser=True)


@pytest.fixture
def comandante_a(unidad_a):
    return UsuarioFactory(username="comandante_a", rol=Rol.COMANDANTE, unidad=unidad_a)


@pytest.fixture
def comandante_b(unidad_b):
    return UsuarioFactory(username="comandante_b", rol=Rol.COMANDANTE, unidad=unidad_b)


@pytest.fixture
def efectivo(unidad_a):
    """The field officer persona: a user with rol efectivo and its Efectivo record in unidad A."""
    usuario = UsuarioFactory(username="efectivo", rol=Rol.EFECTIVO)
    return EfectivoFactory(usuario=usuario, unidad=unidad_a)


@pytest.fixture
def ajeno(db):
    """An outsider: signed in, but no role that sees anything."""
    return UsuarioFactory(username="ajeno", rol=Rol.EFECTIVO)


def cliente_jwt(usuario) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(usuario).access_token}")
    return client


@pytest.fixture
def api():
    """api(usuario) -> an APIClient authenticated with that user's JWT."""
    return cliente_jwt
