"""Log formatting that never writes a secret: the Telegram bot's token travels in every Bot API
URL (/bot<TOKEN>/...), and libraries log those URLs (python-telegram-bot at DEBUG, httpx at
INFO, exceptions in their messages). Whatever logs it, the line leaves with the token masked."""

from __future__ import annotations

import logging

from django.conf import settings


class FormatoSinSecretos(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        texto = super().format(record)
        for secreto in _secretos():
            texto = texto.replace(secreto, "«secreto»")
        return texto


def _secretos() -> list[str]:
    token = getattr(settings, "TELEGRAM_BOT_TOKEN", "")
    # The whole token, and its secret half alone (after "<bot id>:"), which some messages split.
    return [s for s in (token, token.partition(":")[2]) if len(s) >= 8]
