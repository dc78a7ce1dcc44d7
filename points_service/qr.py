"""QR codes as SVG, for anything a phone scans: redemption codes, activity check-in tokens."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str) -> str:
    """A standalone SVG document (with its namespace, so a browser draws it served as image/svg+xml or
    shown through <img>), which also works pasted inline into HTML."""
    out = io.BytesIO()
    # Never a Micro QR (segno picks one for short texts): many phone cameras cannot read those.
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=8, border=2, xmldecl=False)
    return out.getvalue().decode()
