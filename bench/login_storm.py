"""Memory under a login storm: N members sign in at once; peak RSS per worker and login latency.

Run from the project root:

    .venv/bin/python bench/login_storm.py [--logins 200] [--workers 2] [--hashing-threads 2]

It starts `points-service serve` on the embedded default in a fresh temporary POINTS_DATA_DIR, creates the
members through the HTTP API, then sends every login at once. Each login comes from an address of its own
on the loopback network (127.0.x.y), as phones on a morning rush do: from one address, logins in flight
count against that address's failure limit (30) until they succeed. The RSS of each worker is sampled
every 10 ms from /proc. `--hashing-threads` sets POINTS_PASSWORD_HASHING_THREADS (1 to 32); 32 shows
about what an unbounded process does (before the bound, 40 threads of anyio's default pool hashed at once).
Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # bench/ is not a package: this file's folder is on sys.path
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    MEMBER_PASSWORD,
    Service,
    log,
    login,
)

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib(pid: int) -> float | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return None


def helper(pid: int) -> bool:
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


class RssSampler:
    """Peak resident memory of each process, sampled until stopped."""

    def __init__(self, pids: list[int], every: float = 0.01) -> None:
        self.peaks: dict[int, float] = dict.fromkeys(pids, 0.0)
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.peaks:
                found = rss_mib(pid)
                if found is not None and found > self.peaks[pid]:
                    self.peaks[pid] = found
            self._stop.wait(self._every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def create_members(base_url: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        client.headers["Authorization"] = f"Bearer {await login(client, ADMIN_USERNAME, ADMIN_PASSWORD)}"
        unit = await client.post(
            "/api/v1/admin/org-units", json={"name": "登录高峰社区", "kind": "community", "parent_id": None}
        )
        unit.raise_for_status()
        semaphore = asyncio.Semaphore(8)

        async def one(n: int) -> str:
            body = {
                "name": f"居民{n}",
                "phone": f"138{n:08d}",
                "org_unit_id": unit.json()["id"],
                "party_status": "none",
                "username": f"storm-{n}",
                "password": MEMBER_PASSWORD,
            }
            async with semaphore:
                answer = await client.post("/api/v1/admin/members", json=body)
            answer.raise_for_status()
            return f"storm-{n}"

        return list(await asyncio.gather(*(one(n) for n in range(count))))


async def storm(base_url: str, usernames: list[str]) -> tuple[list[float], dict[int, int]]:
    """Every login at once, each from its own loopback address; latencies (s) and answers by status."""
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            timeout=300,
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.{1 + n // 250}.{1 + n % 250}"),
        )
        for n in range(len(usernames))
    ]
    go = asyncio.Event()

    async def one(client: httpx.AsyncClient, username: str) -> tuple[float, int]:
        await go.wait()
        started = time.monotonic()
        answer = await client.post("/api/v1/auth/login", json={"username": username, "password": MEMBER_PASSWORD})
        return time.monotonic() - started, answer.status_code

    try:
        tasks = [asyncio.create_task(one(client, name)) for client, name in zip(clients, usernames, strict=True)]
        await asyncio.sleep(0.1)
        go.set()
        results = await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    statuses: dict[int, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    return [seconds for seconds, status in results if status == 200], statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=200, help="members signing in at once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hashing-threads", type=int, default=None, help="POINTS_PASSWORD_HASHING_THREADS")
    args = parser.parse_args(argv)
    if args.hashing_threads is not None:
        os.environ["POINTS_PASSWORD_HASHING_THREADS"] = str(args.hashing_threads)
    threads = os.environ.get("POINTS_PASSWORD_HASHING_THREADS", "2 (default)")
    with tempfile.TemporaryDirectory(prefix="red-points-login-storm-") as folder:
        data_dir = Path(folder)
        service = Service(data_dir, args.workers, data_dir / "server.log")
        try:
            service.start()
            log(f"creating {args.logins} members with a login")
            usernames = asyncio.run(create_members(service.base_url, args.logins))
            # One worker: the app runs in the service's own process. Several: not multiprocessing's helper.
            workers = [pid for pid in service.worker_pids() if not helper(pid)] or (
                [service.proc.pid] if service.proc else []
            )
            before = {pid: rss_mib(pid) or 0.0 for pid in workers}
            log(f"{args.logins} logins at once; {args.workers} workers, hashing threads per worker: {threads}")
            started = time.monotonic()
            with RssSampler(workers) as sampler:
                latencies, statuses = asyncio.run(storm(service.base_url, usernames))
            wall = time.monotonic() - started
        finally:
            service.stop()
    report: dict[str, Any] = {
        "answers": statuses,
        "wall_s": round(wall, 2),
        "p50_ms": round(1000 * statistics.median(latencies)) if latencies else None,
        "p95_ms": round(1000 * percentile(latencies, 0.95)) if latencies else None,
        "max_ms": round(1000 * max(latencies)) if latencies else None,
    }
    print()
    print(f"login storm: {args.logins} logins at once, {args.workers} workers, hashing threads {threads}")
    for pid in workers:
        print(f"  worker {pid}: RSS before {before[pid]:.0f} MiB, peak during the storm {sampler.peaks[pid]:.0f} MiB")
    print(f"  answers by status: {report['answers']}; all done in {report['wall_s']} s")
    print(f"  login latency: p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, max {report['max_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
