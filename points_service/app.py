"""The composition root: the one place where the three packages are assembled into an app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from points_service.activities.routes import activity_routers
from points_service.auth.controllers import AuthController
from points_service.auth.middleware import BearerTokenMiddleware
from points_service.auth.tokens import AccessTokens
from points_service.database.reads import create_read_pool
from points_service.database.session import create_engine, provide_db_session, read_session_factory, session_factory
from points_service.deps import provide_principal
from points_service.duty.routes import duty_routers
from points_service.errors import EXCEPTION_HANDLERS
from points_service.health import live, ready
from points_service.leaderboards.controllers import LeaderboardController
from points_service.leaderboards.upkeep import keep_boards_forever
from points_service.me.controllers import MeController
from points_service.mobile import TEMPLATE_DIRECTORY as MEMBER_TEMPLATES
from points_service.mobile.routes import member_page_routers
from points_service.redis_pool import create_redis
from points_service.settings import Settings, SettingsError
from points_service.web import TEMPLATE_DIRECTORY as WEB_TEMPLATES
from points_service.web.csrf import page_csrf

# Connections per process for one-statement hot reads (a balance): each is held for one round trip.
READ_POOL_SIZE = 4


def create_app(settings: Settings | None = None) -> Litestar:
    from admin.console import TEMPLATE_DIRECTORY as CONSOLE_TEMPLATES
    from admin.console.routes import console_routers
    from admin.points.group_awards import staff_award_batches
    from admin.routes import admin_router
    from admin.warnings.daily import keep_warnings_daily
    from merchants.redemptions.group_redeem import redeem_batches
    from merchants.redemptions.sweep import sweep_forever
    from merchants.routes import MERCHANT_TEMPLATES, marketplace_routers, merchant_page_routers
    from merchants.web.member_rewards import member_reward_routers

    settings = settings or Settings.from_env()
    if settings.database_url is None or settings.redis_url is None:
        raise SettingsError("create_app needs DATABASE_URL and REDIS_URL; `points-service serve` provides them")
    if not settings.jwt_secret:
        raise SettingsError("POINTS_JWT_SECRET is required")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url or "", settings.database_pool_size, settings.database_application_name
        )
        # Work that must commit on its own while a request's transaction is still open (an expiry
        # the 409 after it must not undo, a revoked token family) takes its connection from a pool of
        # its own: borrowing from the request pool could starve it when every request waits for one.
        side_engine = create_engine(settings.database_url or "", 4, settings.database_application_name)
        # Single statements committed on their own (a reward's stock), see RedemptionService._take_stock.
        # Their commits need not wait for the disk: a redemption commits after its stock was taken, so
        # its commit record follows the stock's in the WAL, and flushing it flushes the stock's too.
        # A crash can lose only a stock change no redemption committed after: a take (as if never
        # taken) or a give-back (the reward left short, never oversold).
        stock_engine = create_engine(
            settings.database_url or "",
            2,
            settings.database_application_name,
            autocommit=True,
            wait_for_wal_flush=False,
        )
        read_pool = await create_read_pool(
            settings.database_url or "", READ_POOL_SIZE, settings.database_application_name
        )
        redis = create_redis(settings.redis_url or "")
        app.state.update(
            settings=settings,
            engine=engine,
            session_factory=session_factory(engine),
            read_session_factory=read_session_factory(engine),
            read_pool=read_pool,
            side_session_factory=session_factory(side_engine),
            stock_session_factory=session_factory(stock_engine),
            redis=redis,
            access_tokens=AccessTokens(
                settings.jwt_secret or "", settings.jwt_issuer, settings.jwt_audience, settings.access_token_seconds
            ),
        )
        app.state.staff_award_batches = staff_award_batches(app.state)
        app.state.redeem_batches = redeem_batches(app.state)
        # Everything loaded at start-up (modules, routes, schemas) lives as long as the process: moved
        # out of the collector's reach, a full collection no longer walks it, which was most of the
        # tail latency of fast reads.
        gc.collect()
        gc.freeze()
        # Background work of this process; a Redis-backed job queue replaces it when jobs grow.
        background = [
            asyncio.create_task(sweep_forever(app.state.session_factory)),
            asyncio.create_task(keep_boards_forever(redis, app.state.session_factory)),
        ]
        if settings.daily_warnings_at is not None:
            background.append(
                asyncio.create_task(keep_warnings_daily(app.state.session_factory, settings.daily_warnings_at))
            )
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.staff_award_batches.close()
            await app.state.redeem_batches.close()
            await redis.aclose()
            await engine.dispose()
            await read_pool.close()
            await side_engine.dispose()
            await stock_engine.dispose()

    api = Router(
        path="/api/v1",
        dependencies={"principal": Provide(provide_principal)},
        route_handlers=[
            AuthController,
            MeController,
            LeaderboardController,
            admin_router(),
            *marketplace_routers(),
            *activity_routers(),
            *duty_routers(),
        ],
    )
    return Litestar(
        route_handlers=[
            api,
            live,
            ready,
            *merchant_page_routers(),
            *member_page_routers(),
            *member_reward_routers(),
            *console_routers(),
        ],
        lifespan=[lifespan],
        dependencies={"db_session": Provide(provide_db_session)},
        middleware=[BearerTokenMiddleware],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        # Each page keeps its templates under a folder of its own name (merchant/, member/, console/);
        # web/ is the layer's frame and partials they share.
        template_config=TemplateConfig(
            directory=[WEB_TEMPLATES, MERCHANT_TEMPLATES, MEMBER_TEMPLATES, CONSOLE_TEMPLATES],
            engine=JinjaTemplateEngine,
        ),
        csrf_config=page_csrf(settings.jwt_secret),
        openapi_config=OpenAPIConfig(
            title="Red Points API",
            version="1.0.0",
            path="/schema",
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"BearerToken": []}],
        ),
        logging_config=None,
        debug=False,
    )
