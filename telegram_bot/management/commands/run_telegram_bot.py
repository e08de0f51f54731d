"""python manage.py run_telegram_bot [--webhook URL] [--puerto N]

Long polling by default. With --webhook, Telegram posts updates to URL (served here on --puerto,
behind the TLS proxy), and every request must carry TELEGRAM_WEBHOOK_SECRET in the
X-Telegram-Bot-Api-Secret-Token header (PTB refuses the rest with 403)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from telegram import Update

from gad_project import cifrado

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Runs the Telegram bot for efectivos (long polling, or a webhook with --webhook)."

    @staticmethod
    def _construir():
        from telegram_bot.bot import construir

        return construir()

    def add_arguments(self, parser):
        parser.add_argument("--webhook", help="Public URL Telegram posts updates to (webhook mode).")
        parser.add_argument("--puerto", type=int, default=8443, help="Local port of the webhook server.")

    def handle(self, *args, webhook=None, puerto=8443, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather (see README).")
        cifrado.verificar_al_arrancar()  # keys that do not decrypt the stored data: refuse to start
        app = self._construir()
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
            self._sondear(app)

    def _sondear(self, app) -> None:
        """Long polling that outlives Telegram being unreachable at start-up: `make run` stops
        everything when one process exits, and a bot without network must not take the
        operations centre down with it. Once running, PTB itself retries failed polls."""
        from telegram.error import NetworkError

        espera = 1.0
        while True:
            try:
                app.run_polling(
                    allowed_updates=Update.ALL_TYPES,
                    timeout=settings.TELEGRAM_POLL_TIMEOUT_S,
                    poll_interval=0,
                    bootstrap_retries=-1,
                    close_loop=False,
                )
                return
            except NetworkError as exc:  # getMe failed: Telegram (or the network) is down
                logger.warning("Telegram unreachable (%s); retrying in %.0f s", exc, espera)
                time.sleep(espera)
                espera = min(espera * 2, 60.0)
                app = self._construir()
