"""QR codes as SVG, for anything a phone scans: redemption codes, activity check-in tokens."""

from __future__ import annotations

import io

import segno


def qr_code(text: str) -> segno.QRCode:
    """Always a standard QR code. segno picks Micro QR for a text as short as a redemption code
    (`ZZ73-03N1`), which phone scanners (WeChat's among them) and decoders such as jsQR cannot read."""
    return segno.make(text, error="m", micro=False)


def qr_svg(text: str, scalable: bool = False) -> str:
    """A standalone SVG document (with its namespace, so a browser draws it served as image/svg+xml or
    shown through <img>), which also works pasted inline into HTML. `scalable`: a viewBox instead of a
    fixed size, so CSS can make it fill a screen."""
    out = io.BytesIO()
    qr_code(text).save(out, kind="svg", scale=8, border=2, xmldecl=False, omitsize=scalable)
    return out.getvalue().decode()
