"""CSRF checks for the pages, which sign in by cookie (Litestar's CSRFMiddleware, configured once by the app
factory). The JSON API is left out: it takes bearer tokens, which another site cannot make a browser send.
A page's form carries `<input type="hidden" name="_csrf_token" value="{{ csrf_token() }}">`."""

from __future__ import annotations

import hashlib
import hmac

from litestar.config.csrf import CSRFConfig

CSRF_COOKIE = "rp_csrf"


def page_csrf(jwt_secret: str) -> CSRFConfig:
    return CSRFConfig(
        secret=hmac.new(jwt_secret.encode(), b"page-csrf", hashlib.sha256).hexdigest(),
        cookie_name=CSRF_COOKIE,
        # Secure or not is decided per request (web/cookies.py), which this one value cannot be.
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=[r"^/api/", r"^/health/", r"^/schema(/|$)"],
    )
