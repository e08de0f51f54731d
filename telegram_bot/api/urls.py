from __future__ import annotations

from django.urls import path

from telegram_bot.api import views

urlpatterns = [path("telegram/codigos/", views.CodigoVinculacionView.as_view(), name="telegram_codigos")]
