from django.apps import AppConfig


class TelegramBotConfig(AppConfig):
    name = "telegram_bot"
    verbose_name = "Bot de Telegram"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from telegram_bot.metrics import NotificacionesPorEstado

        REGISTRY.register(NotificacionesPorEstado())
