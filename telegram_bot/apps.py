from django.apps import AppConfig


class TelegramBotConfig(AppConfig):
    name = "telegram_bot"
    verbose_name = "Bot de Telegram"

    def ready(self) -> None:
        from gad_project.metricas import colector_registrar
        from telegram_bot.metrics import NotificacionesPorEstado

        colector_registrar(NotificacionesPorEstado())
