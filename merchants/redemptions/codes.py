"""Redemption codes: 8 Crockford base32 characters, short enough to read aloud, too many to guess
(32^8 ≈ 1.1 × 10^12), drawn from the OS's CSPRNG."""

from __future__ import annotations

import secrets

from points_service.qr import qr_svg as render_qr

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
# Crockford's rule for what people type: O is 0, I and L are 1.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    # 8 characters of 5 bits are exactly 40 random bits: one call to the CSPRNG instead of eight.
    bits = int.from_bytes(secrets.token_bytes(LENGTH * 5 // 8))
    return "".join(ALPHABET[(bits >> (5 * index)) & 31] for index in range(LENGTH))


def normalise(typed: str) -> str | None:
    """What a clerk typed or scanned -> the stored form, or None if it cannot be a code."""
    code = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def qr_svg(code: str) -> str:
    return render_qr(display(code))
