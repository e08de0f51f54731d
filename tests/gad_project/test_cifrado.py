"""Personal data encrypted at rest (#30): DNI, Telegram ids and officers' free text are stored as
MultiFernet tokens, looked up and kept unique by a keyed blind index, absent in clear from a dump;
a key file missing or wrong stops the server; keys rotate."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from efectivos.models import Efectivo, Usuario
from gad_project import cifrado
from mensajes.models import Destino, Mensaje, Respuesta
from seguridad.models import FuenteSos, Sos
from tests.factories import EfectivoFactory, UsuarioFactory

RAIZ = Path(__file__).resolve().parents[2]
PG_BIN = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])


def _columna(tabla: str, columna: str, pk: int) -> str:
    with connection.cursor() as c:
        c.execute(f"SELECT {columna} FROM {tabla} WHERE id = %s", [pk])
        return c.fetchone()[0]


@pytest.mark.django_db
def test_se_guarda_cifrado_y_se_busca_por_su_indice(unidad_a):
    usuario = UsuarioFactory(rol="efectivo", telegram_id=5551234)
    efectivo = EfectivoFactory(unidad=unidad_a, usuario=usuario, dni="30123456")
    crudo = _columna("efectivos_efectivo", "dni", efectivo.pk)
    assert "30123456" not in crudo and crudo.split("$")[0] == cifrado.indice("30123456")
    assert "5551234" not in _columna("efectivos_usuario", "telegram_id", usuario.pk)
    # Read back decrypted; found by exact value, never by a fragment.
    assert Efectivo.objects.get(pk=efectivo.pk).dni == "30123456"
    assert Efectivo.objects.get(dni="30123456").pk == efectivo.pk
    assert not Efectivo.objects.filter(dni="3012345").exists()
    assert Usuario.objects.get(telegram_id=5551234).pk == usuario.pk
    assert Usuario.objects.get(pk=usuario.pk).telegram_id == 5551234  # an int again
    assert list(Usuario.objects.filter(telegram_id__in=[5551234, 1]).values_list("pk", flat=True)) == [usuario.pk]
    assert Usuario.objects.filter(telegram_id__isnull=False).count() == 1
    # Two encryptions of the same value differ (a random IV each): equal DNIs are not visible.
    assert cifrado.cifrar("30123456") != cifrado.cifrar("30123456")


@pytest.mark.django_db
def test_el_dni_y_el_telegram_siguen_siendo_unicos(unidad_a):
    EfectivoFactory(unidad=unidad_a, dni="30123456")
    otro = EfectivoFactory.build(unidad=unidad_a, dni="30123456", codigo_interno="OTRO-1")
    with pytest.raises(ValidationError) as exc:
        otro.full_clean()
    assert "dni" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        otro.save()
    UsuarioFactory(telegram_id=42)
    with pytest.raises(IntegrityError), transaction.atomic():
        UsuarioFactory(telegram_id=42)


@pytest.mark.django_db(transaction=True)
def test_un_volcado_de_la_base_no_tiene_datos_personales_en_claro(unidad_a, comandante_a):
    usuario = UsuarioFactory(rol="efectivo", telegram_id=7712345)
    efectivo = EfectivoFactory(unidad=unidad_a, usuario=usuario, dni="29876543")
    mensaje = Mensaje.objects.create(
        autor=comandante_a, texto="La llave del portón está en la maceta", destino=Destino.EFECTIVOS
    )
    Respuesta.objects.create(mensaje=mensaje, efectivo=efectivo, texto="Entendido, voy con el móvil 12")
    Sos.objects.create(efectivo=efectivo, fuente=FuenteSos.API, nota="Me siguen desde la esquina")
    # Edited in the audited way too: the trail must not keep them in clear either.
    efectivo.dni = "29876544"
    efectivo.save()
    ajustes = connection.settings_dict
    volcado = subprocess.run(
        [
            str(PG_BIN / "pg_dump"),
            "-h",
            ajustes["HOST"],
            "-p",
            str(ajustes["PORT"]),
            "-U",
            ajustes["USER"],
            ajustes["NAME"],
        ],
        env={**os.environ, "PGPASSWORD": ajustes["PASSWORD"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "COPY public.efectivos_efectivo" in volcado and len(volcado) > 10_000
    for secreto in ("29876543", "29876544", "7712345", "llave del portón", "voy con el móvil", "Me siguen"):
        assert secreto not in volcado, secreto


def _arranque(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = os.environ.get("DATABASE_URL") or f"postgis://gad:gad@127.0.0.1:{os.environ.get('GAD_PG_PORT', '55432')}/gad"
    return subprocess.run(
        [sys.executable, "-c", "import gad_project.asgi"],
        cwd=RAIZ,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "gad_project.settings",
            "DATABASE_URL": base.rsplit("/", 1)[0] + f"/{connection.settings_dict['NAME']}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_sin_archivo_de_claves_o_con_claves_ajenas_el_servidor_no_arranca(tmp_path, unidad_a):
    EfectivoFactory(unidad=unidad_a, dni="27111222")
    faltante = _arranque({"CIFRADO_CLAVES_FILE": str(tmp_path / "no-existe")})
    assert faltante.returncode != 0 and "CIFRADO_CLAVES_FILE: no existe" in faltante.stderr, faltante.stderr[-2000:]
    roto = tmp_path / "rotas"
    roto.write_text("indice:corta\nno-es-una-clave\n")
    mal = _arranque({"CIFRADO_CLAVES_FILE": str(roto)})
    assert mal.returncode != 0 and "CIFRADO_CLAVES_FILE" in mal.stderr, mal.stderr[-2000:]
    ajenas = tmp_path / "ajenas"
    ajenas.write_text(cifrado.archivo_nuevo())
    ajeno = _arranque({"CIFRADO_CLAVES_FILE": str(ajenas)})
    assert ajeno.returncode != 0 and "no descifran efectivos_efectivo.dni" in ajeno.stderr, ajeno.stderr[-2000:]
    assert _arranque({}).returncode == 0  # the right keys: it starts


@pytest.mark.django_db
def test_las_claves_rotan_y_las_viejas_se_retiran(settings, tmp_path, unidad_a, comandante_a):
    copia = tmp_path / "claves"
    shutil.copy(settings.CIFRADO_CLAVES_FILE, copia)
    settings.CIFRADO_CLAVES_FILE = str(copia)
    cifrado.claves.cache_clear()
    try:
        efectivo = EfectivoFactory(unidad=unidad_a, dni="25000111")
        mensaje = Mensaje.objects.create(autor=comandante_a, texto="Texto de prueba", destino=Destino.EFECTIVOS)
        vieja = cifrado.claves().primaria
        call_command("cifrado_clave_nueva", "--agregar", stdout=io.StringIO())
        assert len(cifrado.claves().textos) == 2
        assert Efectivo.objects.get(dni="25000111").pk == efectivo.pk  # the old key still decrypts
        with pytest.raises(CommandError, match="clave vieja"):
            call_command("cifrado_rotar", "--retirar", stdout=io.StringIO())
        call_command("cifrado_rotar", stdout=io.StringIO())
        call_command("cifrado_rotar", "--retirar", stdout=io.StringIO())
        assert len(cifrado.claves().textos) == 1
        token = _columna("efectivos_efectivo", "dni", efectivo.pk).split("$")[1]
        with pytest.raises(InvalidToken):
            vieja.decrypt(token.encode())  # nothing left under the retired key
        assert Efectivo.objects.get(dni="25000111").dni == "25000111"  # the index key never changes
        assert Mensaje.objects.get(pk=mensaje.pk).texto == "Texto de prueba"
    finally:
        cifrado.claves.cache_clear()
