"""The clerk's page at /merchant/ on the shared web layer (points_service.web): only clerks of a merchant
sign in here, and the session cookies stay under /merchant."""

from __future__ import annotations

from merchants.web import STATIC_DIRECTORY, TEMPLATE_DIRECTORY
from merchants.web.i18n import CATALOGUE
from points_service.web import Page

CLERK_PAGE = Page(
    name="merchant",
    path="/merchant",
    catalogue=CATALOGUE,
    allows=lambda principal: principal.role == "clerk" and principal.merchant_id is not None,
    # The language cookie keeps the name it had before the pages shared a layer, so a choice is remembered.
    language_cookie="rp_lang",
    template_directory=TEMPLATE_DIRECTORY,
    static_directory=STATIC_DIRECTORY,
    # A counter shift: the clerk signs in again the next day, although the refresh token itself lives longer.
    session_seconds=12 * 3600,
    wrong_door="not_a_clerk",
)
