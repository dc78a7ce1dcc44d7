"""Idempotent writes (API.md "(idem)"): one key, one outcome, replayed byte for byte, refusals included."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Response
from litestar.params import HeaderParameter
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.database.session import savepoint
from points_service.errors import (
    PROBLEM_MEDIA_TYPE,
    DomainError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
    domain_error_body,
)
from points_service.idempotency.models import IdempotencyRecord

Answer = TypeVar("Answer")
# The header of a retryable write (API.md "Idempotency"), as handlers declare it.
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
# How long a repeat waits for the first request with its key before answering 409.
WAIT_FOR_FIRST = "10s"


def _validated_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all(32 <= ord(char) <= 126 for char in key):
        raise InvalidInput("Idempotency-Key", "must be 1-255 printable ASCII characters")
    return key


def _request_hash(endpoint: str, body: Any) -> str:
    canonical = json.dumps([endpoint, msgspec.to_builtins(body)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class KeyClaim:
    """A write's Idempotency-Key, checked and hashed, to be claimed in a batch's transaction."""

    caller_id: uuid.UUID
    endpoint: str
    key: str
    request_hash: str

    @classmethod
    def of(cls, caller_id: uuid.UUID, key: str, endpoint: str, body: Any) -> KeyClaim:
        return cls(caller_id, endpoint, _validated_key(key), _request_hash(endpoint, body))


CLAIM_KEYS = text(
    """
    INSERT INTO idempotency_records
        (tenant_id, caller_id, endpoint, key, request_hash, response_status, response_body)
    SELECT :tenant, c.caller, c.endpoint, c.key, c.hash, 0, '{}'::jsonb
      FROM unnest(CAST(:callers AS uuid[]), CAST(:endpoints AS text[]), CAST(:keys AS text[]),
                  CAST(:hashes AS text[])) AS c(caller, endpoint, key, hash)
     ORDER BY c.caller, c.endpoint, c.key
    ON CONFLICT DO NOTHING
    RETURNING caller_id, endpoint, key
    """
)

RECORD_OUTCOMES = text(
    """
    UPDATE idempotency_records AS r
       SET response_status = v.status, response_body = CAST(v.body AS jsonb)
      FROM unnest(CAST(:callers AS uuid[]), CAST(:endpoints AS text[]), CAST(:keys AS text[]),
                  CAST(:statuses AS int[]), CAST(:bodies AS text[])) AS v(caller, endpoint, key, status, body)
     WHERE r.tenant_id = :tenant AND r.caller_id = v.caller AND r.endpoint = v.endpoint AND r.key = v.key
    """
)


@asynccontextmanager
async def _waiting_for_the_first(session: AsyncSession) -> AsyncIterator[None]:
    """A claim of a key that a transaction still running holds waits for it to commit, for at most
    WAIT_FOR_FIRST; then 409. Later statements of the transaction wait for locks as usual."""
    await session.execute(text(f"SET LOCAL lock_timeout = '{WAIT_FOR_FIRST}'"))
    try:
        yield
    except DBAPIError as error:
        if "lock timeout" in str(error.orig).lower() or "55P03" in str(getattr(error.orig, "sqlstate", "")):
            raise IdempotencyInProgress() from error
        raise
    await session.execute(text("SET LOCAL lock_timeout = 0"))


async def _claim_keys(session: AsyncSession, tenant_id: uuid.UUID, claims: list[KeyClaim]) -> set[KeyClaim]:
    """Claim many keys in one statement, in one order (so two batches cannot deadlock on them);
    the claims answered are the ones won."""
    distinct = list(dict.fromkeys(claims))
    async with _waiting_for_the_first(session):
        rows = await session.execute(
            CLAIM_KEYS,
            {
                "tenant": tenant_id,
                "callers": [claim.caller_id for claim in distinct],
                "endpoints": [claim.endpoint for claim in distinct],
                "keys": [claim.key for claim in distinct],
                "hashes": [claim.request_hash for claim in distinct],
            },
        )
        won = {(row.caller_id, row.endpoint, row.key) for row in rows}
    return {claim for claim in distinct if (claim.caller_id, claim.endpoint, claim.key) in won}


# The answer of a write in a batch whose Idempotency-Key another request (or an earlier write of the
# batch) holds: the stored answer of that key is replayed instead, once the batch has committed.
REPLAY = "replay"


async def respond(
    answer: Any,
    claim: KeyClaim | None,
    tenant_id: uuid.UUID,
    read_sessions: async_sessionmaker[AsyncSession],
    status: int = 201,
) -> Response[Any]:
    """The HTTP answer of a write that went through a batch: its own, or its key's stored answer."""
    if answer == REPLAY and claim is not None:
        async with read_sessions() as session:
            return await IdempotentWrites(session, tenant_id, claim.caller_id).replay(claim)
    return Response(answer, status_code=status)


async def claim_each(session: AsyncSession, tenant_id: uuid.UUID, claims: Sequence[KeyClaim | None]) -> list[bool]:
    """For each write of a batch: whether it goes ahead (it has no key, or it won its key). A write
    that lost its key, to an earlier request or to a write before it in the batch, replays that
    key's stored answer once the batch has committed."""
    keyed = [claim for claim in claims if claim is not None]
    won = await _claim_keys(session, tenant_id, keyed) if keyed else set()
    first: set[KeyClaim] = set()
    going = []
    for claim in claims:
        going.append(claim is None or (claim in won and claim not in first))
        if claim is not None:
            first.add(claim)
    return going


async def record_each(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    claims: Sequence[KeyClaim | None],
    answers: Sequence[Any],
    going: Sequence[bool],
    status: int = 201,
) -> None:
    """Store the answer of each write of a batch that went ahead with a key, refusals included."""
    outcomes = [
        (claim, *_outcome_of(answer, status))
        for claim, answer, ahead in zip(claims, answers, going, strict=True)
        if claim is not None and ahead
    ]
    if not outcomes:
        return
    await session.execute(
        RECORD_OUTCOMES,
        {
            "tenant": tenant_id,
            "callers": [claim.caller_id for claim, _, _ in outcomes],
            "endpoints": [claim.endpoint for claim, _, _ in outcomes],
            "keys": [claim.key for claim, _, _ in outcomes],
            "statuses": [status for _, status, _ in outcomes],
            "bodies": [json.dumps(msgspec.to_builtins(body), ensure_ascii=False) for _, _, body in outcomes],
        },
    )


def _outcome_of(answer: Any, status: int) -> tuple[int, Any]:
    if isinstance(answer, DomainError):
        return answer.status_code, domain_error_body(answer)
    return status, answer


def _response(status: int, body: Any, replayed: bool) -> Response[Any]:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    media_type = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return Response(body, status_code=status, headers=headers, media_type=media_type)


class IdempotentWrites:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, caller_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._caller_id = caller_id

    async def run(
        self, key: str | None, endpoint: str, body: Any, action: Callable[[], Awaitable[Answer]], status: int = 201
    ) -> Response[Answer]:
        """Run `action` once per key. Without a key it simply runs (and refusals raise as usual). The
        answer is `action`'s, or a stored refusal (a problem) when the key's first run was refused."""
        if key is None:
            return _response(status, msgspec.to_builtins(await action()), replayed=False)
        key = _validated_key(key)
        request_hash = _request_hash(endpoint, body)
        if not await self._claim(key, endpoint, request_hash):
            return await self._replay(key, endpoint, request_hash)
        try:
            # The savepoint undoes a refused action's writes but keeps the claimed key, so the
            # refusal itself is recorded and replayed.
            async with savepoint(self._session):
                result_status, result_body = status, msgspec.to_builtins(await action())
        except DomainError as refusal:
            result_status, result_body = refusal.status_code, domain_error_body(refusal)
        await self._session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.tenant_id == self._tenant_id,
                IdempotencyRecord.caller_id == self._caller_id,
                IdempotencyRecord.endpoint == endpoint,
                IdempotencyRecord.key == key,
            )
            .values(response_status=result_status, response_body=result_body)
        )
        return _response(result_status, result_body, replayed=False)

    async def _claim(self, key: str, endpoint: str, request_hash: str) -> bool:
        """Insert the key. A concurrent holder of the same key makes this wait until it commits."""
        async with _waiting_for_the_first(self._session):
            claimed = await self._session.scalar(
                text(
                    """
                    INSERT INTO idempotency_records
                        (tenant_id, caller_id, endpoint, key, request_hash, response_status, response_body)
                    VALUES (:tenant, :caller, :endpoint, :key, :hash, 0, '{}'::jsonb)
                    ON CONFLICT DO NOTHING
                    RETURNING 1
                    """
                ),
                {
                    "tenant": self._tenant_id,
                    "caller": self._caller_id,
                    "endpoint": endpoint,
                    "key": key,
                    "hash": request_hash,
                },
            )
        return claimed is not None

    async def replay(self, claim: KeyClaim) -> Response[Any]:
        """The stored answer of a key another request claimed and committed."""
        return await self._replay(claim.key, claim.endpoint, claim.request_hash)

    async def _replay(self, key: str, endpoint: str, request_hash: str) -> Response[Any]:
        record = await self._session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == self._tenant_id,
                IdempotencyRecord.caller_id == self._caller_id,
                IdempotencyRecord.endpoint == endpoint,
                IdempotencyRecord.key == key,
            )
        )
        if record is None:
            raise IdempotencyInProgress()
        if record.request_hash != request_hash:
            raise IdempotencyKeyReused()
        return _response(record.response_status, record.response_body, replayed=True)
