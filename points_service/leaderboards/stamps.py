"""Whether this process may believe the boards in Redis: never across Redis going back in time.

Each build of a tenant's boards has a generation (PostgreSQL's clock when it began), kept in the
tenant's ready flag with the Redis server's run id, and in PostgreSQL (`leaderboard_generations`).
Every published change increments the tenant's `applied` counter. A Redis restored from an older
snapshot brings back older boards with their older flag and counter; the boards must not be served.

* The upkeep (every 30 s, and first when the process starts) believes a flag only when it was built
  on the Redis server running now (a restarted Redis may have lost what it wrote since its last
  save) and is not older than PostgreSQL's generation; otherwise it drops the boards and rebuilds.
  Until a flag has been believed here, reads come from PostgreSQL.
* Every read and every publish returns the flag and the counter in its own round trip. Redis runs
  commands one after another, so whatever this process saw answered before a command was sent must
  not be newer than what that command sees: if it is, Redis went back in time since, and the tenant
  is marked stale (reads from PostgreSQL, boards rebuilt) without waiting for the upkeep.
"""

from __future__ import annotations

import enum
import uuid

# Tenant -> the generation the upkeep (or a rebuild in this process) found sound.
TRUSTED: dict[uuid.UUID, int] = {}
# Tenant -> the newest (generation, applied) any answer of Redis showed this process.
SEEN: dict[uuid.UUID, tuple[int, int]] = {}


class Belief(enum.Enum):
    SOUND = "sound"
    UNVERIFIED = "unverified"  # not checked against PostgreSQL in this process yet
    WENT_BACK = "went_back"  # older than something seen or verified before: Redis went back in time


def ready_value(generation: int, run_id: str) -> str:
    return f"{generation}:{run_id}"


def parse_ready(value: str | bytes | None) -> tuple[int, str]:
    """(generation, run id) of a ready flag; a flag without them (an older build) is generation 0."""
    text = value.decode() if isinstance(value, bytes) else (value or "")
    generation, _, run_id = text.partition(":")
    return (int(generation), run_id) if generation.isdigit() else (0, "")


Floor = tuple[tuple[int, int] | None, int | None]


def floor(tenant_id: uuid.UUID) -> Floor:
    """What was seen and believed before a command is sent; its answer must not be older."""
    return SEEN.get(tenant_id), TRUSTED.get(tenant_id)


def judge(tenant_id: uuid.UUID, ready: str | bytes, applied: int, before: Floor, incremented: bool = False) -> Belief:
    """`incremented`: the answer is an INCR of the counter, which must be above anything seen before it."""
    generation, _ = parse_ready(ready)
    seen, trusted_before = before
    if trusted_before is not None and generation < trusted_before:
        return Belief.WENT_BACK
    if seen is not None and (generation, applied - 1 if incremented else applied) < seen:
        return Belief.WENT_BACK
    SEEN[tenant_id] = max(SEEN.get(tenant_id, (0, 0)), (generation, applied))
    trusted = TRUSTED.get(tenant_id)
    # Older than a build believed while the command was under way (a rebuild swapped in meanwhile): not
    # served, but no sign of Redis going back either.
    return Belief.SOUND if trusted is not None and generation >= trusted else Belief.UNVERIFIED


def trust(tenant_id: uuid.UUID, generation: int) -> None:
    TRUSTED[tenant_id] = max(TRUSTED.get(tenant_id, 0), generation)


def distrust(tenant_id: uuid.UUID) -> None:
    TRUSTED.pop(tenant_id, None)
    SEEN.pop(tenant_id, None)
