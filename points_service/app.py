"""The composition root: the core's configuration and one plugin per package. The only module of
points_service that imports `admin` or `merchants`."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from types import ModuleType

from litestar import Litestar
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from admin.plugin import AdminPlugin
from merchants.plugin import MerchantsPlugin
from points_service.api_headers import api_answer_headers
from points_service.auth import models as auth_models
from points_service.auth.controllers import AuthController, PasswordController
from points_service.auth.middleware import BearerTokenMiddleware
from points_service.auth.passwords import bound_hashing
from points_service.database.base import Base
from points_service.database.session import provide_db_session
from points_service.errors import EXCEPTION_HANDLERS
from points_service.health import live, ready
from points_service.idempotency import models as idempotency_models
from points_service.jobs import Work
from points_service.jobs.core_work import CORE_WORK
from points_service.jobs.worker import PAGE_TIMEOUT_SECONDS, close_queue, job_queue, running_worker
from points_service.ledger import models as ledger_models
from points_service.ledger.reconcile import Check, reconcile
from points_service.member_side import MemberSidePlugin
from points_service.observability.logs import configure_logging
from points_service.observability.metrics import metrics, sampling_pools
from points_service.observability.requests import observe_requests
from points_service.openapi import ProblemAnswers, docs_assets_router, openapi_config
from points_service.org import models as org_models
from points_service.package_plugin import PackagePlugin, api_router, introduced
from points_service.rules import models as rules_models
from points_service.settings import Settings, SettingsError
from points_service.state import opened_state
from points_service.tenancy import models as tenancy_models
from points_service.web import TEMPLATE_DIRECTORY as WEB_TEMPLATES
from points_service.web.cookies import secure_csrf_cookie
from points_service.web.csrf import CSRF_COOKIE, page_csrf
from points_service.web.landing import landing_router

# The core's own tables; each plugin brings its package's.
CORE_MODELS = (tenancy_models, org_models, auth_models, rules_models, ledger_models, idempotency_models)


def plugins() -> list[PackagePlugin]:
    return introduced([MemberSidePlugin(), MerchantsPlugin(), AdminPlugin()])


async def reconcile_all(
    session: AsyncSession, seal_until: date | None = None, tenant_id: uuid.UUID | None = None
) -> list[Check]:
    """What `points-service reconcile` runs: the ledger's checks and every plugin's."""
    contributed = [check for plugin in plugins() for check in plugin.reconcile_checks()]
    return await reconcile(session, seal_until, tenant_id, contributed)


def all_work() -> list[Work]:
    """Every kind of job the worker runs: the core's and each plugin's."""
    return [*CORE_WORK, *(work for plugin in plugins() for work in plugin.jobs())]


def model_modules() -> list[ModuleType]:
    """The modules that declare tables: the core's and each plugin's."""
    return [*CORE_MODELS, *(module for plugin in plugins() for module in plugin.models)]


def schema() -> MetaData:
    """Every table of the application (Alembic and the drift test read it). Importing this module has
    imported every module of `model_modules()`, which any session needs too: logins refer to merchants."""
    return Base.metadata


def freeze_heap() -> None:
    """Everything loaded at start-up (modules, routes, schemas) lives as long as the process: moved
    out of the collector's reach, a full collection no longer walks it, which was most of the tail
    latency of fast reads. Runs once every plugin has started."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    if settings.database_url is None or settings.redis_url is None:
        raise SettingsError("create_app needs DATABASE_URL and REDIS_URL; `points-service serve` provides them")
    if not settings.jwt_secret:
        raise SettingsError("POINTS_JWT_SECRET is required")

    configure_logging()
    bound_hashing(settings.password_hashing_threads)

    @asynccontextmanager
    async def core_state(app: Litestar) -> AsyncIterator[None]:
        async with opened_state(app.state, settings) as state:
            if not settings.observe_requests:
                yield
                return
            # create_engine lets the request pool overflow by its size.
            async with sampling_pools(state.engine, 2 * settings.database_pool_size, state.read_pool):
                yield

    @asynccontextmanager
    async def jobs(app: Litestar) -> AsyncIterator[None]:
        # Pages enqueue on `job_queue`; the worker runs here only when POINTS_WORKER=inside (one per
        # `points-service serve`: with several API workers, serve starts it as a process of its own).
        queue = job_queue(settings.redis_url or "", timeout_seconds=PAGE_TIMEOUT_SECONDS)
        app.state.job_queue = queue
        try:
            if settings.worker != "inside":
                yield
                return
            async with running_worker(settings, all_work()):
                yield
        finally:
            await close_queue(queue)

    app = Litestar(
        route_handlers=[
            api_router([AuthController, PasswordController]),
            landing_router([source for plugin in plugins() for source in plugin.public_boards()]),
            live,
            ready,
            *([metrics] if settings.observe_requests else []),
            *([docs_assets_router()] if settings.api_docs else []),
        ],
        # The problem answers last: they describe the routes every other plugin has registered.
        plugins=[*plugins(), ProblemAnswers()],
        lifespan=[core_state, jobs],
        on_startup=[freeze_heap],
        dependencies={"db_session": Provide(provide_db_session)},
        middleware=[BearerTokenMiddleware],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        # The layer's frame and partials every page shares (web/); each plugin adds its page's folder.
        template_config=TemplateConfig(directory=[WEB_TEMPLATES], engine=JinjaTemplateEngine),
        csrf_config=page_csrf(settings.jwt_secret),
        openapi_config=openapi_config(settings.api_docs),
        logging_config=None,
        debug=False,
    )
    app.asgi_handler = api_answer_headers(app.asgi_handler)
    if settings.observe_requests:
        # Around the router rather than in `middleware`, which Litestar runs only once a route
        # matched: a 404 gets its request id, access line and count too.
        app.asgi_handler = observe_requests(app.asgi_handler)
    app.asgi_handler = secure_csrf_cookie(app.asgi_handler, CSRF_COOKIE)
    # Outermost, so everything inside (limits, cookies, the access log) sees the client and scheme the
    # proxy saw. Done here rather than by uvicorn's own option, so the setting is the only one to set.
    app.asgi_handler = ProxyHeadersMiddleware(app.asgi_handler, list(settings.trusted_proxies))  # type: ignore[arg-type,assignment]
    return app
