"""Argon2id password hashes. Hashing is deliberately slow, so it runs off the event loop, and
deliberately memory-hard: each computation holds 64 MiB (argon2-cffi's default memory cost) while it
runs, so a process runs only a few at once and queues the rest. Unbounded, 200 logins at once took a
worker from 160 MiB to over 1 GiB; queued, a login storm costs time, not memory."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

DEFAULT_HASHING_THREADS = 2
THREAD_NAME = "argon2"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile


class _Hashing:
    """The process's hashing threads: one pool for every event loop of the process (the app's, a
    test's), so the bound holds per process whoever asks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads = DEFAULT_HASHING_THREADS
        self._pool: ThreadPoolExecutor | None = None

    def bound(self, threads: int) -> None:
        with self._lock:
            if threads == self._threads:
                return
            previous, self._pool, self._threads = self._pool, None, threads
        if previous is not None:
            previous.shutdown(wait=False)  # what it holds still runs; new work goes to the new pool

    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                # The executor's queue is unbounded: work waits for a thread, it is never refused.
                self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix=THREAD_NAME)
            return self._pool

    def forget_after_fork(self) -> None:
        """A forked child (granian's workers are forked from `serve`, which hashed the admin's
        password) inherits the pool but not its threads: the executor counts the dead thread as
        idle, starts none, and the first hash waits until a second one arrives."""
        self._lock = threading.Lock()
        self._pool = None


_HASHING = _Hashing()
os.register_at_fork(after_in_child=_HASHING.forget_after_fork)


def bound_hashing(threads: int) -> None:
    """At most `threads` Argon2 computations at once in this process (POINTS_PASSWORD_HASHING_THREADS)."""
    _HASHING.bound(threads)


async def _off_the_loop(work: Callable[..., T], *arguments: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING.pool(), work, *arguments)


# Verified against when the username is unknown, so both answers take the same time.
_UNKNOWN_USER_HASH = _hasher().hash("unknown-user-placeholder")


async def hash_password(password: str) -> str:
    return await _off_the_loop(_hasher().hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    ok = await _off_the_loop(_verify, password_hash or _UNKNOWN_USER_HASH, password)
    return ok and password_hash is not None
