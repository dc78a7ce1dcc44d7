"""QR codes as inline SVG, for anything a phone scans: redemption codes, activity check-in tokens."""

from __future__ import annotations

import segno


def qr_svg(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=8, border=2)
