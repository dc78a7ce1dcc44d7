"""A killed API worker loses nothing and doubles nothing (docs/api.md, "Idempotency").

`points-service serve --workers 2` on the suite's PostgreSQL and Redis, under a few hundred keyed awards
and keyed redemptions at once. One worker (not the supervisor) is killed with SIGKILL mid-stream, as the
kernel's out-of-memory killer would; uvicorn starts another. Every request that failed or lost its
connection is sent again with its key until it answers, as a client would. Afterwards each key has
applied exactly once: every balance is the sum of its awards minus its redemptions, the stock is exact,
and the ledger reconciles.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.redemptions.stock import give_back_abandoned
from tests.conftest import JWT_SECRET, Services, new_community
from tests.merchants.test_redemption_flow import shop

MEMBERS = 4
AWARDS_PER_MEMBER = 60
REDEMPTIONS_PER_MEMBER = 15
STOCK = 100
STARTING_POINTS = 1_000
RULE_POINTS = 10
PRICE = 20
# Answers that mean "not applied yet, or not known to be": the request is sent again with its key.
RETRIED_STATUSES = {500, 502, 503, 504}


@dataclass(frozen=True)
class TwoWorkers:
    base_url: str
    supervisor: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[psutil.Process]:
        """The supervisor's worker processes (multiprocessing's spawned children, not its resource tracker)."""
        found = []
        for child in psutil.Process(self.supervisor.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def two_workers(services: Services) -> Iterator[TwoWorkers]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="red-points-workers-") as folder:
        log = Path(folder) / "serve.log"
        environment = {key: value for key, value in os.environ.items() if not key.startswith("POINTS_")}
        environment.update(
            DATABASE_URL=services.database_url,
            REDIS_URL=services.redis_url,
            POINTS_JWT_SECRET=JWT_SECRET,
            POINTS_PORT=str(port),
            POINTS_DATA_DIR=folder,
            POINTS_DAILY_WARNINGS_AT="off",
        )
        with log.open("wb") as output:
            supervisor = subprocess.Popen(  # noqa: S603 - this interpreter's own command, fixed arguments
                [str(Path(sys.executable).parent / "points-service"), "serve", "--workers", "2"],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        served = TwoWorkers(base_url, supervisor, log)
        try:
            assert wait_until(lambda: supervisor.poll() is not None or len(served.workers()) == 2, 120), log.read_text()
            assert wait_until(lambda: supervisor.poll() is not None or ready(base_url), 120), log.read_text()
            assert supervisor.poll() is None, log.read_text()
            yield served
        finally:
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for worker in served.workers():
                    worker.kill()
                supervisor.kill()
                supervisor.wait()


async def until_answered(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], broken: list[str]
) -> httpx.Response:
    """POST with one key, again and again, until an answer that is not "try again"; each broken
    connection is noted in `broken`."""
    key = uuid.uuid4().hex
    deadline = time.monotonic() + 120  # generous: a loaded machine's worker needs seconds to start
    while True:
        try:
            response = await client.post(path, json=body, headers={"Idempotency-Key": key})
            in_progress = response.status_code == 409 and response.json().get("code") == "idempotency_in_progress"
            if response.status_code not in RETRIED_STATUSES and not in_progress:
                return response
        except httpx.TransportError:
            broken.append(path)  # its worker died under it, or was gone: the key is sent again
        assert time.monotonic() < deadline, f"{path} with key {key} never answered"
        await asyncio.sleep(0.1)


async def test_a_worker_killed_under_keyed_load_applies_each_key_exactly_once(
    two_workers: TwoWorkers, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from points_service.app import reconcile_all

    async with new_community(two_workers, sessions) as community:  # type: ignore[arg-type]
        unit = await community.org_unit()
        rule = await community.rule(points=RULE_POINTS)
        members = [await community.member(unit, name=f"成员{index}", login=True) for index in range(MEMBERS)]
        for member in members:
            assert (await community.adjust(member["id"], STARTING_POINTS)).status_code == 201
        _, _, reward_id = await shop(community, unit, stock=STOCK, points_price=PRICE)
        phones = [await community.client_for(member["username"]) for member in members]

        total = MEMBERS * (AWARDS_PER_MEMBER + REDEMPTIONS_PER_MEMBER)
        answered = 0
        broken: list[str] = []
        halfway = asyncio.Event()
        gate = asyncio.Semaphore(32)

        async def send(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
            nonlocal answered
            async with gate:
                response = await until_answered(client, path, body, broken)
            answered += 1
            if answered >= total // 3:
                halfway.set()
            return response

        async def kill_one_worker() -> int:
            await halfway.wait()
            victim = two_workers.workers()[0]
            os.kill(victim.pid, signal.SIGKILL)
            return victim.pid

        awards = [
            (community.admin, "/api/v1/admin/awards", {"member_id": member["id"], "rule_code": rule})
            for member in members
            for _ in range(AWARDS_PER_MEMBER)
        ]
        redemptions = [(phone, "/api/v1/me/redemptions", {"reward_id": reward_id}) for phone in phones]
        redemptions *= REDEMPTIONS_PER_MEMBER
        # Interleaved, so both kinds are in flight when the worker dies.
        every = len(awards) // len(redemptions)
        work = [*awards]
        for index, redemption in enumerate(redemptions):
            work.insert(index * (every + 1), redemption)
        killed, *answers = await asyncio.gather(kill_one_worker(), *(send(*item) for item in work))

        assert [(answer.status_code, answer.text) for answer in answers if answer.status_code != 201] == []
        assert broken, "the killed worker broke no request: nothing was retried"
        assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
        assert wait_until(lambda: len(two_workers.workers()) == 2, 90), two_workers.log.read_text()[-3000:]

        for member, phone in zip(members, phones, strict=True):
            balance = (await phone.get("/api/v1/me/balance")).json()
            spent = REDEMPTIONS_PER_MEMBER * PRICE
            assert balance["available"] == STARTING_POINTS + AWARDS_PER_MEMBER * RULE_POINTS - spent, member
            assert balance["held"] == spent, member
        # A batch takes its stock in a statement committed before the batch itself
        # (merchants/redemptions/stock.py): a worker killed between the two leaves the reward short by
        # that batch's items until the sweep gives back takes whose batch never committed. Every batch
        # has ended now, so the sweep need not wait out its grace period: the stock is then exact.
        catalogue = (await phones[0].get("/api/v1/rewards")).json()["items"]
        exact = STOCK - MEMBERS * REDEMPTIONS_PER_MEMBER
        short_at_most = broken.count("/api/v1/me/redemptions")
        assert len(catalogue) == 1
        assert exact - short_at_most <= catalogue[0]["stock"] <= exact, (catalogue, broken)
        await give_back_abandoned(sessions, after=timedelta(0))
        catalogue = (await phones[0].get("/api/v1/rewards")).json()["items"]
        assert catalogue[0]["stock"] == exact, (catalogue, broken)

        async with sessions() as session:
            checks = await reconcile_all(session, tenant_id=community.tenant_id)
        assert [check.name for check in checks if not check.ok] == []
