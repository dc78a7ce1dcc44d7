"""The ceilings of bench/reads.py, served by the same server with the same workers as the service.

* `/noop`: one handler that does nothing. A read's rate divided by this one's is the share of the app
  server's own ceiling that the read reaches on this machine, in this minute.
* `/bare-balance`: the stack's own ceiling for a database read: one handler, no authentication, no
  middleware, the service's balance statement (`BALANCE`, ledger/repository.py) for the members of the
  service's database in turn, on a plain asyncpg pool of the service's read-pool size. Only when
  `BENCH_BARE_READ_DSN` is set (bench/reads.py sets it to the service's embedded database); the pool's
  reset on release is a no-op, as the service's read pool's is, so both make one round trip per read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
from litestar import Litestar, get

DSN = os.environ.get("BENCH_BARE_READ_DSN")
if DSN:
    # Only then: the no-op alone stays the app with nothing else imported.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from points_service.ledger.repository import BALANCE  # the service's own statement
    from points_service.state import READ_POOL_SIZE
_state: dict[str, Any] = {}


@get("/noop", sync_to_thread=False)
def noop() -> dict[str, bool]:
    return {"ok": True}


@get("/bare-balance")
async def bare_balance() -> dict[str, int]:
    tenant_id, member_id = next(_state["members"])
    today = dt.datetime.now(dt.UTC).date()
    row = await _state["pool"].fetchrow(
        BALANCE, tenant_id, member_id, today.replace(day=1), today.replace(month=1, day=1)
    )
    return {"available": row["available"] or 0, "total": row["total"]}


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    return None


async def _open_pool() -> None:
    pool = await asyncpg.create_pool(DSN, min_size=0, max_size=READ_POOL_SIZE, reset=_nothing_to_reset)
    members = await pool.fetch("SELECT tenant_id, id FROM members ORDER BY id")
    if not members:
        raise RuntimeError("no members in the service's database to read")
    _state.update(pool=pool, members=itertools.cycle([(m["tenant_id"], m["id"]) for m in members]))


async def _close_pool() -> None:
    if "pool" in _state:
        await _state["pool"].close()


app = Litestar(
    route_handlers=[noop, bare_balance] if DSN else [noop],
    on_startup=[_open_pool] if DSN else [],
    on_shutdown=[_close_pool] if DSN else [],
    logging_config=None,
    debug=False,
)
