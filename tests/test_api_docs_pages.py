"""The API's documentation pages load their libraries from the service itself, never from another
origin, and POINTS_API_DOCS=off takes the pages away while the document stays."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import ServedApp, Services, settings_for

PAGES = ["/schema", "/schema/redoc", "/schema/swagger"]
# Every address a page names: in its markup and in the strings its script is given.
ADDRESS = re.compile(r"""(?:src|href)\s*=\s*["']?([^"' >]+)|(https?://[^\s"'<>)]+)""", re.IGNORECASE)


@pytest.fixture(scope="module")
def without_docs(services: Services) -> Iterator[ServedApp]:
    with ServedApp(settings_for(services, api_docs=False)) as app:
        yield app


async def test_the_pages_load_their_libraries_from_their_own_origin(served: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        for page in PAGES:
            answer = await web.get(page)
            assert answer.status_code == 200, page
            assert answer.headers["content-type"].startswith("text/html"), page
            named = [found[0] or found[1] for found in ADDRESS.findall(answer.text)]
            scripts = [address for address in named if address.endswith((".js", ".css"))]
            assert scripts, (page, named)
            for address in named:
                absolute = urljoin(f"{served.base_url}{page}", address)
                assert urlsplit(absolute).netloc == urlsplit(served.base_url).netloc, (page, address)
            for script in scripts:
                asset = await web.get(script)
                assert asset.status_code == 200, script
                assert len(asset.content) > 10_000, script


async def test_switched_off_the_pages_are_not_found_and_the_document_stays(without_docs: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=without_docs.base_url, timeout=60) as web:
        for page in [*PAGES, "/schema/static/redoc/redoc.standalone.js"]:
            assert (await web.get(page)).status_code == 404, page
        document = await web.get("/schema/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Red Points API"
