"""Check-in and feedback tokens of an activity, derived from the app's secret (nothing stored).

A check-in token is an HMAC of the activity and a 60-second window: the organiser's screen shows the
current one, and a check-in accepts the current and the previous window only, so a photo of the code
is useless a minute or two later (issue 3). Beside it the organiser's screen shows a short code of six
digits, derived from the same secret, activity and window and accepted for the same windows, for a
member whose phone cannot scan: 24 letters that change every minute cannot be typed in time. Six digits
are easy to guess one at a time, so check-ins count misses (service.py: CheckInGuessLimit).
A feedback link belongs to one sign-up: the organiser hands the resident a member served the link of
that member's sign-up, and it rates once (one activity-wide token let anyone holding it rate as often as
they liked).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

WINDOW_SECONDS = 60
QR_PREFIX = "RP-CHECKIN"
SHORT_CODE_DIGITS = 6


def _key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:15]
    return base64.b32encode(digest).decode()


def window_of(at: datetime) -> int:
    return int(at.timestamp()) // WINDOW_SECONDS


def check_in_token(secret: str, activity_id: uuid.UUID, at: datetime) -> str:
    return _mac(_key(secret, b"activity-check-in"), f"{activity_id}:{window_of(at)}")


def short_check_in_code(secret: str, activity_id: uuid.UUID, at: datetime) -> str:
    digest = hmac.new(_key(secret, b"activity-check-in"), f"{activity_id}:{window_of(at)}:short".encode(), "sha256")
    return f"{int.from_bytes(digest.digest()[:8]) % 10**SHORT_CODE_DIGITS:0{SHORT_CODE_DIGITS}d}"


def is_short_code(presented: str) -> bool:
    text = "".join(presented.split())
    return len(text) == SHORT_CODE_DIGITS and text.isascii() and text.isdigit()


def token_expires_at(at: datetime) -> datetime:
    """When the token shown at `at` stops being accepted: the end of the window after its own."""
    return datetime.fromtimestamp((window_of(at) + 2) * WINDOW_SECONDS, UTC)


def qr_text(activity_id: uuid.UUID, token: str) -> str:
    return f"{QR_PREFIX}:{activity_id}:{token}"


def token_from_scan(scanned: str) -> str:
    """A member's app may send the bare token or the whole scanned QR text."""
    text = scanned.strip()
    return text.rsplit(":", 1)[-1].upper() if text.upper().startswith(QR_PREFIX) else text.upper()


def check_in_token_valid(secret: str, activity_id: uuid.UUID, token: str, now: datetime) -> bool:
    """The token of this window or the previous one, as scanned or typed, or its short code."""
    if is_short_code(token):
        typed = "".join(token.split())
        expected = short_check_in_code
    else:
        typed = token_from_scan(token)
        expected = check_in_token
    return any(
        hmac.compare_digest(typed, expected(secret, activity_id, now - timedelta(seconds=back)))
        for back in (0, WINDOW_SECONDS)
    )


def feedback_link_token(secret: str, activity_id: uuid.UUID, signup_id: uuid.UUID) -> str:
    """The rating link's token of one sign-up: the sign-up's id and a MAC over it and the activity."""
    return f"{signup_id.hex}.{_mac(_key(secret, b'activity-feedback-link'), f'{activity_id}:{signup_id}')}"


def feedback_link_signup(secret: str, activity_id: uuid.UUID, token: str) -> uuid.UUID | None:
    """The sign-up a rating link's token belongs to, or None for a token not made for this activity."""
    signup_hex, _, mac = token.strip().partition(".")
    try:
        signup_id = uuid.UUID(hex=signup_hex)
    except ValueError:
        return None
    expected = feedback_link_token(secret, activity_id, signup_id).partition(".")[2]
    return signup_id if hmac.compare_digest(mac.upper(), expected) else None
