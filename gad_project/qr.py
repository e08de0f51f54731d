"""QR codes for what a phone should open (a Telegram link, a tracker app's configuration)."""

from __future__ import annotations

import segno


def qr_svg(texto: str) -> str:
    """An SVG QR code (segno), dark on white with the quiet zone, sized by the page's CSS."""
    return str(segno.make(texto, error="m").svg_inline(scale=4, dark="#0d1117", light="#ffffff", omitsize=True))
