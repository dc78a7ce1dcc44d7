"""Argon2id password hashes. Hashing is deliberately slow, so it runs off the event loop."""

from __future__ import annotations

from functools import lru_cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile


# Verified against when the username is unknown, so both answers take the same time.
_UNKNOWN_USER_HASH = _hasher().hash("unknown-user-placeholder")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher().hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    ok = await anyio.to_thread.run_sync(_verify, password_hash or _UNKNOWN_USER_HASH, password)
    return ok and password_hash is not None
