"""A username is unique across tenants (the login body names no tenant), kept in the global table
`username_logins` that Citus would hold as a reference table; the accounts stay per tenant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import PASSWORD, Community, ServedApp, new_community, unique
from tests.test_migrations import empty_database, engine_for, migrate

__all__ = ["empty_database"]


@pytest.fixture
async def elsewhere(served: ServedApp, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Community]:
    """A second tenant beside `community`."""
    async with new_community(served, sessions) as community:
        yield community


async def add_staff(community: Community, unit: str, username: str) -> httpx.Response:
    return await community.admin.post(
        "/api/v1/admin/staff",
        json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
    )


async def apply_as_shop(community: Community, unit: str, username: str) -> httpx.Response:
    return await community.anonymous.post(
        "/api/v1/merchant-applications",
        json={
            "name": "幸福小卖部",
            "address": "幸福路8号",
            "org_unit_id": unit,
            "username": username,
            "password": PASSWORD,
        },
    )


async def signed_in_tenant(community: Community, username: str) -> dict[str, object]:
    client = await community.client_for(username)
    response = await client.get("/api/v1/me")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_every_kind_of_account_signs_in(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    staff = unique("s")
    shop = unique("shop")
    assert (await add_staff(community, unit, staff)).status_code == 201
    assert (await apply_as_shop(community, unit, shop)).status_code == 201

    roles = {
        name: (await signed_in_tenant(community, name))["role"]
        for name in (community.admin_username, member["username"], staff, shop)
    }

    assert roles == {community.admin_username: "admin", member["username"]: "member", staff: "staff", shop: "clerk"}


async def test_a_name_taken_in_another_tenant_is_refused_in_the_words_of_a_name_taken_at_home(
    community: Community, elsewhere: Community
) -> None:
    home_unit, other_unit = await community.org_unit(), await elsewhere.org_unit()
    taken_elsewhere = (await elsewhere.member(other_unit, login=True))["username"]
    taken_at_home = (await community.member(home_unit, login=True))["username"]

    refusals = [
        await add_staff(community, home_unit, taken_elsewhere.upper()),
        await apply_as_shop(community, home_unit, taken_elsewhere),
        await community.admin.post(
            "/api/v1/admin/members",
            json={
                "name": "李四",
                "phone": f"139{uuid.uuid4().int % 10**8:08d}",
                "org_unit_id": home_unit,
                "party_status": "none",
                "username": taken_elsewhere,
                "password": PASSWORD,
            },
        ),
    ]
    at_home = await add_staff(community, home_unit, taken_at_home)

    assert [response.status_code for response in refusals] == [409, 409, 409]
    assert at_home.status_code == 409
    # The same words whichever tenant holds the name: nothing about the other street.
    assert at_home.json()["detail"] == f"Username {taken_at_home!r} is already taken"
    assert refusals[0].json()["detail"] == f"Username {taken_elsewhere.upper()!r} is already taken"
    assert all(str(elsewhere.tenant_id) not in response.text for response in refusals)
    assert (await signed_in_tenant(elsewhere, taken_elsewhere))["role"] == "member"


async def test_one_name_created_at_once_in_two_tenants_goes_to_one_the_other_is_refused(
    community: Community, elsewhere: Community
) -> None:
    units = [await community.org_unit(), await elsewhere.org_unit()]
    for _ in range(4):
        username = unique("both")

        answers = await asyncio.gather(
            add_staff(community, units[0], username), add_staff(elsewhere, units[1], username)
        )

        assert sorted(answer.status_code for answer in answers) == [201, 409]
        refused = next(answer for answer in answers if answer.status_code == 409)
        assert refused.json()["detail"] == f"Username {username!r} is already taken"
        created = next(answer for answer in answers if answer.status_code == 201)
        winner = community if answers[0].status_code == 201 else elsewhere
        # The name signs in to the winner's account, and only that one exists.
        assert (await signed_in_tenant(winner, username))["id"] == created.json()["id"]


async def test_the_migration_fills_the_username_table_from_every_tenants_logins(empty_database: str) -> None:
    tenants = [uuid.uuid4(), uuid.uuid4()]
    accounts = [uuid.uuid4(), uuid.uuid4()]
    await migrate(empty_database, "0017")
    async with engine_for(empty_database) as engine, engine.begin() as connection:
        for tenant, account, name in zip(tenants, accounts, ("Alice", "bob"), strict=True):
            await connection.execute(
                text("INSERT INTO tenants (id, name, timezone) VALUES (:t, :n, 'Asia/Shanghai')"),
                {"t": tenant, "n": f"街道-{tenant.hex[:6]}"},
            )
            await connection.execute(
                text(
                    "INSERT INTO login_accounts (tenant_id, id, username, password_hash, role, is_active) "
                    "VALUES (:t, :a, :n, 'x', 'admin', true)"
                ),
                {"t": tenant, "a": account, "n": name},
            )

    await migrate(empty_database)

    async with engine_for(empty_database) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT username, tenant_id, account_kind, account_id FROM username_logins ORDER BY username")
        )
        assert [tuple(row) for row in rows] == [
            ("alice", tenants[0], "admin", accounts[0]),
            ("bob", tenants[1], "admin", accounts[1]),
        ]
