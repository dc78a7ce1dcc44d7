"""Keeping the pools free of connections PostgreSQL closed (a restart, a failover, a terminated backend)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine


def replace_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection whose socket PostgreSQL closed (a restart) is replaced when checked out.

    asyncpg notices the closed socket while the connection sits idle in the pool, so the check costs
    no round trip (unlike `pool_pre_ping`). Without it, a connection that died under a statement run
    straight on the driver (database/driver.py) went back to the pool as if alive: an autocommit pool
    (the stock's) never rolls back on return, the one step that would have found it dead, so it kept
    failing until the process restarted."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError("PostgreSQL closed this connection")
