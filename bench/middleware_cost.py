"""The CPU one request pays for its id, metrics and access line: the observing middleware around an app that
answers at once, in this process, as `points-service serve --workers N` sets it up (multiprocess metrics,
JSON access lines; written to /dev/null). bench/observability.py runs it beside the HTTP phases.

    .venv/bin/python bench/middleware_cost.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from typing import Any


async def answer_at_once(_scope: Any, _receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(_message: Any) -> None:
    return None


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/me/balance",
        "path_template": "/api/v1/me/balance",
        "headers": [(b"authorization", b"Bearer x"), (b"host", b"127.0.0.1")],
    }


async def cpu_seconds(app: Any, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        await app(scope(), receive, send)
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rp-metrics-") as directory:
        # Before prometheus-client is imported: it picks its file-backed values then, as in `serve`.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        from points_service.observability.logs import configure_logging
        from points_service.observability.requests import observe_requests

        stderr = sys.stderr
        # Line-buffered, as standard error is: one write per access line, as in `serve`.
        with open(os.devnull, "w", buffering=1) as sink:
            sys.stderr = sink
            try:
                configure_logging()
                observed = observe_requests(answer_at_once)
                asyncio.run(cpu_seconds(observed, 1000))  # warm: the labels' children, the logger's cache
                bare, watched = [], []
                for _ in range(3):  # interleaved, so a busier second falls on both
                    bare.append(asyncio.run(cpu_seconds(answer_at_once, args.requests)))
                    watched.append(asyncio.run(cpu_seconds(observed, args.requests)))
            finally:
                sys.stderr = stderr
    added_us = (min(watched) - min(bare)) / args.requests * 1e6
    print(f"MIDDLEWARE_CPU_US {added_us:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
