"""python manage.py run_telegram_bot [--webhook URL] [--puerto N] [--metricas-puerto N]

Long polling by default. With --webhook, Telegram posts updates to URL (served here on --puerto,
behind the TLS proxy), and every request must carry TELEGRAM_WEBHOOK_SECRET in the
X-Telegram-Bot-Api-Secret-Token header (PTB refuses the rest with 403)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from prometheus_client import start_http_server
from telegram import Update


class Command(BaseCommand):
    help = "Runs the Telegram bot for efectivos (long polling, or a webhook with --webhook)."

    def add_arguments(self, parser):
        parser.add_argument("--webhook", help="Public URL Telegram posts updates to (webhook mode).")
        parser.add_argument("--puerto", type=int, default=8443, help="Local port of the webhook server.")
        parser.add_argument("--metricas-puerto", type=int, default=settings.TELEGRAM_METRICAS_PUERTO)

    def handle(self, *args, webhook=None, puerto=8443, metricas_puerto=0, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather (see README).")
        from telegram_bot.bot import construir

        if metricas_puerto:
            start_http_server(metricas_puerto, addr="127.0.0.1")
        app = construir()
        if webhook:
            if not settings.TELEGRAM_WEBHOOK_SECRET:
                raise CommandError("Webhook mode needs TELEGRAM_WEBHOOK_SECRET (Telegram's secret-token header).")
            self.stdout.write(f"Telegram bot: webhook {webhook} (listening on 127.0.0.1:{puerto})")
            app.run_webhook(
                listen="127.0.0.1",
                port=puerto,
                url_path=webhook.rstrip("/").rsplit("/", 1)[-1],
                webhook_url=webhook,
                secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            self.stdout.write("Telegram bot: long polling")
            app.run_polling(
                allowed_updates=Update.ALL_TYPES,
                timeout=settings.TELEGRAM_POLL_TIMEOUT_S,
                poll_interval=0,
            )
