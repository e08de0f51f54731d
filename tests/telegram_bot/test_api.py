from __future__ import annotations

import pytest
from django.test import Client

from telegram_bot import services
from telegram_bot.models import CodigoVinculacion
from tests.factories import EfectivoFactory

pytestmark = pytest.mark.django_db


def test_el_comandante_genera_un_codigo_para_su_efectivo(api, comandante_a, efectivo, settings):
    settings.TELEGRAM_BOT_USERNAME, settings.TELEGRAM_BOT_TOKEN = "gad_bot", "123:abc"
    r = api(comandante_a).post("/api/v1/telegram/codigos/", {"efectivo": efectivo.pk}, format="json")
    assert r.status_code == 201, r.content
    codigo = r.json()["codigo"]
    assert r.json()["enlace"] == f"https://t.me/gad_bot?start={codigo}"
    assert (r.json()["bot"], r.json()["aviso"]) == ("@gad_bot", None)
    assert r.json()["qr_svg"].startswith("<svg")
    assert len(codigo) >= 16
    assert services.cuenta_vincular(codigo=codigo, telegram_id=42).pk == efectivo.usuario.pk


def test_sin_bot_en_la_instalacion_el_codigo_lo_dice(api, comandante_a, efectivo, settings):
    settings.TELEGRAM_BOT_USERNAME, settings.TELEGRAM_BOT_TOKEN = "", ""
    r = api(comandante_a).post("/api/v1/telegram/codigos/", {"efectivo": efectivo.pk}, format="json").json()
    assert (r["enlace"], r["bot"], r["qr_svg"]) == (None, None, None)
    assert "no tiene bot de Telegram" in r["aviso"] and "TELEGRAM_BOT_TOKEN" in r["aviso"]
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    r = api(comandante_a).post("/api/v1/telegram/codigos/", {"efectivo": efectivo.pk}, format="json").json()
    assert r["enlace"] is None and "TELEGRAM_BOT_USERNAME" in r["aviso"]


def test_un_codigo_nuevo_anula_el_anterior(api, comandante_a, efectivo):
    viejo = services.codigo_generar(efectivo_id=efectivo.pk, creado_por=comandante_a)
    services.codigo_generar(efectivo_id=efectivo.pk, creado_por=comandante_a)
    with pytest.raises(Exception, match="venció"):
        services.cuenta_vincular(codigo=viejo.codigo, telegram_id=42)
    assert CodigoVinculacion.objects.count() == 2


@pytest.mark.parametrize("cuerpo", [{"efectivo": "x"}, {"efectivo": 0}, {"efectivo": None}, []])
def test_entrada_invalida_es_400(api, comandante_a, cuerpo):
    r = api(comandante_a).post("/api/v1/telegram/codigos/", cuerpo, format="json")
    assert r.status_code == 400
    assert "error" in r.json()


def test_fuera_de_alcance_o_sin_permiso(api, comandante_b, efectivo, unidad_a):
    assert (
        api(comandante_b).post("/api/v1/telegram/codigos/", {"efectivo": efectivo.pk}, format="json").status_code == 404
    )
    assert (
        api(efectivo.usuario).post("/api/v1/telegram/codigos/", {"efectivo": efectivo.pk}, format="json").status_code
        == 403
    )
    sin_usuario = EfectivoFactory(unidad=unidad_a)
    r = api(comandante_b).post("/api/v1/telegram/codigos/", {"efectivo": sin_usuario.pk}, format="json")
    assert r.status_code == 404


def test_acciones_del_admin_generan_codigo_y_desvinculan(admin, efectivo):
    cliente = Client()
    cliente.force_login(admin)
    r = cliente.post(
        "/admin/efectivos/efectivo/",
        {"action": "codigo_telegram", "_selected_action": [efectivo.pk]},
        follow=True,
    )
    mensaje = next(str(m) for m in r.context["messages"])
    codigo = mensaje.split("código ")[1].split(" ")[0]
    services.cuenta_vincular(codigo=codigo, telegram_id=4242)
    efectivo.usuario.refresh_from_db()
    assert efectivo.usuario.telegram_id == 4242

    cliente.post(
        "/admin/efectivos/usuario/",
        {"action": "desvincular_telegram", "_selected_action": [efectivo.usuario.pk]},
        follow=True,
    )
    efectivo.usuario.refresh_from_db()
    assert efectivo.usuario.telegram_id is None


def test_podar_olvida_solo_las_actualizaciones_viejas():
    from datetime import timedelta

    from django.utils import timezone

    from telegram_bot.models import ActualizacionProcesada

    assert services.actualizacion_registrar(1) and not services.actualizacion_registrar(1)
    services.actualizacion_registrar(2)
    ActualizacionProcesada.objects.filter(update_id=1).update(procesada_en=timezone.now() - timedelta(days=8))
    assert services.actualizaciones_podar() == 1
    assert list(ActualizacionProcesada.objects.values_list("update_id", flat=True)) == [2]
