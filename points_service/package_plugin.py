"""The one face a package shows the application: a Litestar plugin that brings all the package adds.

`create_app` lists one plugin per package (the member side, merchants, admin). A plugin names its
API routers (mounted under /api/v1 with the bearer-token principal), its page routers (with their
static files), its template folder, its click commands, its model modules (imported so that
`Base.metadata` holds their tables), the invariants `points-service reconcile` proves over its tables
and the work it runs while the process lives (background loops, batchers), each by overriding one
member below. Packages never import one another; what one offers the others (a page lent for their
screens, the items it has waiting for staff) is gathered by the composition root (`introduced`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import msgspec
from litestar import Litestar, Request, Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins import CLIPlugin, InitPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from points_service.approvals import PendingSource
from points_service.demo_scene import DemoScene
from points_service.deps import provide_principal
from points_service.jobs import Work
from points_service.ledger.reconcile import InvariantCheck
from points_service.state import AppState
from points_service.web import Page
from points_service.web.landing import BoardSource

API_PREFIX = "/api/v1"


def api_router(route_handlers: Sequence[ControllerRouterHandler]) -> Router:
    """The JSON API's routers: under /api/v1, the caller read from the bearer token, bodies in JSON."""
    return Router(
        path=API_PREFIX,
        dependencies={"principal": Provide(provide_principal)},
        route_handlers=list(route_handlers),
        before_request=json_bodies_only,
    )


async def json_bodies_only(request: Request[Any, Any, Any]) -> None:
    """A body sent to the JSON API comes as application/json (or a `+json` type), or it is refused with
    415 instead of being guessed at: a form or text/plain post is also what another site's page can
    send without asking the browser first. Calls without a body are left alone."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    # A handler that declares another encoding for its body (the photos of a report, multipart) gets
    # it, checked by Litestar against that declaration.
    if getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON) != RequestEncodingType.JSON:
        return
    # From the scope's header list (names arrive lower-cased, as ASGI requires): building Litestar's
    # `Headers` for three headers cost more than the rest of this check.
    length: bytes | None = None
    content_type: bytes | None = None
    chunked = False
    for name, value in request.scope["headers"]:
        if name == b"content-length" and length is None:
            length = value
        elif name == b"content-type" and content_type is None:
            content_type = value
        elif name == b"transfer-encoding":
            chunked = True
    if length in (None, b"0") and not chunked:
        return
    media_type = (content_type or b"").decode("latin-1").partition(";")[0].strip().lower()
    json_type = media_type.startswith("application/") and media_type.endswith("+json")
    if media_type != "application/json" and not json_type:
        raise HTTPException(status_code=415, detail="Send the body as JSON, with Content-Type: application/json")
    await _no_coercion(request)


async def _no_coercion(request: Request[Any, Any, Any]) -> None:
    """A number sent as a string (`"quantity": "1"`) is refused: the contract says integers, and
    Litestar's own conversion is lenient (it must be, for query strings). Only what the lenient
    conversion accepts is judged here; anything else gets Litestar's own answer, as before."""
    annotation = request.route_handler.parsed_fn_signature.parameters["data"].annotation
    body = await request.body()
    try:
        msgspec.json.decode(body, type=annotation, strict=True)
    except msgspec.ValidationError as strict_error:
        try:
            msgspec.json.decode(body, type=annotation, strict=False)
        except (msgspec.ValidationError, msgspec.DecodeError, TypeError):
            return
        raise ValidationException(
            detail="Validation failed", extra=[{"message": str(strict_error), "key": "data", "source": "body"}]
        ) from strict_error
    except (msgspec.DecodeError, TypeError):
        return  # not JSON, or a type msgspec does not know: Litestar answers as it always did


def add_template_directory(app_config: AppConfig, directory: Path) -> None:
    """One Jinja engine serves every page; each page keeps its templates under a folder of its own name
    (merchant/, member/, console/), so the folders can be searched in any order."""
    if app_config.template_config is None:
        app_config.template_config = TemplateConfig(directory=[directory], engine=JinjaTemplateEngine)
        return
    directories = app_config.template_config.directory
    assert isinstance(directories, list), "the template folders are gathered in a list"
    directories.append(directory)


@asynccontextmanager
async def in_background(*work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Runs each loop as a task of this process until the block ends, then cancels it: for work that
    keeps per-process state (the leaderboards' upkeep); shared work runs as jobs (`jobs()`)."""
    tasks = [asyncio.create_task(loop) for loop in work]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(frozen=True)
class Offered:
    """What the packages offer one another: pages lent for other packages' screens (by page name) and
    every package's sources of items waiting for a staff decision."""

    pages: Mapping[str, Page] = field(default_factory=dict)
    pending: tuple[PendingSource, ...] = ()


class PackagePlugin(InitPlugin, CLIPlugin):
    """A package overrides what it brings; each default brings nothing."""

    # Set by `introduced` before the app is built.
    offered: Offered = Offered()

    # The modules that declare the package's tables. The plugin's module imports them, so the
    # composition root, by importing the plugin, maps them (tests/test_architecture.py checks none is missed).
    models: Sequence[ModuleType] = ()

    def api_routers(self) -> Sequence[ControllerRouterHandler]:
        return ()

    def page_routers(self) -> Sequence[ControllerRouterHandler]:
        return ()

    def template_directories(self) -> Sequence[Path]:
        return ()

    def commands(self) -> Sequence[click.Command]:
        return ()

    def lends(self) -> Mapping[str, Page]:
        """The package's pages other packages may add screens to (their sign-in, frame and words)."""
        return {}

    def screens_on(self, pages: Mapping[str, Page]) -> Sequence[ControllerRouterHandler]:
        """Screens the package adds to pages other packages lend (absent pages: none)."""
        return ()

    def pending_sources(self) -> Sequence[PendingSource]:
        """What of the package's waits for a staff decision (the staff approvals queue lists it)."""
        return ()

    def public_boards(self) -> Sequence[BoardSource]:
        """The package's 公示 boards the landing page `/` links, newest first."""
        return ()

    def jobs(self) -> Sequence[Work]:
        """The package's kinds of jobs for the job queue's worker (points_service/jobs/), scheduled
        ones (`cron`) included."""
        return ()

    def reconcile_checks(self) -> Sequence[InvariantCheck]:
        """Checks over the package's own tables, run after the ledger's by `points-service reconcile`."""
        return ()

    async def demo(self, scene: DemoScene) -> None:
        """The package's part of `points-service demo` (the marketplace: shops, clerks and rewards; the
        console: a published evaluation). Its logins start with `scene.prefix`, so the demo's table
        of logins finds them."""

    @asynccontextmanager
    async def running(self, state: AppState) -> AsyncIterator[None]:
        """The package's work for the life of the process, once the core's pools are open in `state`;
        it ends before they close."""
        yield

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        if api := self.api_routers():
            app_config.route_handlers.append(api_router(api))
        app_config.route_handlers.extend(self.page_routers())
        app_config.route_handlers.extend(self.screens_on(self.offered.pages))
        for directory in self.template_directories():
            add_template_directory(app_config, directory)
        app_config.lifespan.append(self._lifespan)
        return app_config

    def _lifespan(self, app: Litestar) -> contextlib.AbstractAsyncContextManager[None]:
        return self.running(AppState(app.state))

    def on_cli_init(self, cli: click.Group) -> None:
        for command in self.commands():
            cli.add_command(command)


def introduced(plugins: list[PackagePlugin]) -> list[PackagePlugin]:
    """The plugins, each told what the others offer."""
    offered = Offered(
        {name: page for plugin in plugins for name, page in plugin.lends().items()},
        tuple(source for plugin in plugins for source in plugin.pending_sources()),
    )
    for plugin in plugins:
        plugin.offered = offered
    return plugins
