"""Every QR code the service draws is a standard QR code, read back with a real decoder (zxing-cpp):
segno on its own draws a text as short as a redemption code as a Micro QR, which phone scanners
(WeChat's among them) and jsQR cannot read."""

from __future__ import annotations

import re

import segno
import zxingcpp

from merchants.redemptions.codes import display, normalise
from points_service.qr import qr_code, qr_svg
from tests.conftest import Community
from tests.merchants.test_merchant_page import counter

REDEMPTION_LIKE = "ZZ73-03N1"
SCALE = 8  # qr_svg's pixels per module
BORDER = 2  # qr_svg's quiet zone, in modules


def decoded(symbol: segno.QRCode) -> list[tuple[str, zxingcpp.BarcodeFormat]]:
    """What zxing-cpp reads from the symbol drawn black on white, four pixels a module."""
    rows = [bytes(0 if dark else 255 for dark in row) for row in symbol.matrix_iter(scale=4, border=4)]
    # The view does not keep its pixels alive: they are held here until the decoder is done.
    pixels = b"".join(rows)
    image = zxingcpp.ImageView(pixels, len(rows[0]), len(rows), zxingcpp.ImageFormat.Lum)
    found = [(barcode.text, barcode.format) for barcode in zxingcpp.read_barcodes(image)]
    del pixels
    return found


def modules_across(svg: str) -> int:
    width = re.search(r'width="(\d+)"', svg)
    assert width is not None, svg[:200]
    return int(width.group(1)) // SCALE - 2 * BORDER


def test_a_short_code_is_drawn_as_a_standard_qr_code() -> None:
    # The decoder does tell the two apart: segno's own choice for this text is a Micro QR.
    assert decoded(segno.make(REDEMPTION_LIKE, error="m")) == [(REDEMPTION_LIKE, zxingcpp.BarcodeFormat.MicroQRCode)]

    assert decoded(qr_code(REDEMPTION_LIKE)) == [(REDEMPTION_LIKE, zxingcpp.BarcodeFormat.QRCode)]
    # A standard QR code is at least 21 modules across (version 1); a Micro QR at most 17.
    assert modules_across(qr_svg(REDEMPTION_LIKE)) >= 21
    for text in ("1", "ABCD", "RP-CHECKIN:0b6f1d3e-1f7a-4c55-9a59-2f1f5d0f6a11:ABCDEFGHIJKLMNOPQRSTUVWX"):
        assert decoded(qr_code(text)) == [(text, zxingcpp.BarcodeFormat.QRCode)]


async def test_the_members_redemption_qr_is_a_standard_qr_code(community: Community) -> None:
    shop = await counter(community)
    phone = await community.client_for(shop.member["username"])
    [redemption] = (await phone.get("/api/v1/me/redemptions")).json()["items"]

    served = await phone.get(f"/api/v1/me/redemptions/{redemption['id']}/qr.svg")

    assert served.status_code == 200
    assert modules_across(served.text) >= 21
    code = normalise(shop.code)
    assert code is not None and served.text == qr_svg(display(code))
