"""The org tree, members, member search and staff accounts, through the HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.accounts import create_login
from points_service.bootstrap import create_tenant
from tests.conftest import PASSWORD, Community, ServedApp, unique


@pytest.fixture
async def other_community(served: ServedApp, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Community]:
    """A second tenant on the same service, to show that one tenant never reaches another's rows."""
    admin_username = unique("admin")
    async with sessions() as session, session.begin():
        tenant = await create_tenant(session, unique("街道"))
        await create_login(session, tenant.id, admin_username, PASSWORD, "admin")
    other = Community(served.base_url, tenant.id, admin_username)
    other.admin = await other.client_for(admin_username)
    try:
        yield other
    finally:
        await other.close()


async def search(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/admin/members", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def names_found(client: httpx.AsyncClient, **params: Any) -> set[str]:
    return {item["name"] for item in await search(client, **params)}


def phone_ending(last4: str) -> str:
    return f"138{uuid.uuid4().int % 10**4:04d}{last4}"


# -- org units ------------------------------------------------------------------------------------


async def test_admin_creates_top_level_unit(community: Community) -> None:
    response = await community.admin.post(
        "/api/v1/admin/org-units", json={"name": "红旗社区", "kind": "community", "parent_id": None}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert {"id", "name", "kind", "parent_id"} <= body.keys()
    assert uuid.UUID(body["id"])
    assert body["name"] == "红旗社区"
    assert body["kind"] == "community"
    assert body["parent_id"] is None


async def test_admin_creates_child_unit_under_parent(community: Community) -> None:
    parent = await community.org_unit("东湖街道", kind="street")

    response = await community.admin.post(
        "/api/v1/admin/org-units", json={"name": "一网格", "kind": "grid", "parent_id": parent}
    )

    assert response.status_code == 201, response.text
    assert response.json()["parent_id"] == parent
    assert response.json()["kind"] == "grid"


async def test_several_top_level_units_may_exist(community: Community) -> None:
    first = await community.org_unit("甲社区")
    second = await community.org_unit("乙社区")

    assert first != second
    for unit in (first, second):
        response = await community.admin.get(f"/api/v1/admin/org-units/{unit}")
        assert response.status_code == 200, response.text
        assert response.json()["parent_id"] is None


async def test_get_unit_lists_direct_children_only(community: Community) -> None:
    street = await community.org_unit("东湖街道", kind="street")
    first = await community.org_unit("一社区", kind="community", parent_id=street)
    second = await community.org_unit("二社区", kind="community", parent_id=street)
    await community.org_unit("一网格", kind="grid", parent_id=first)

    response = await community.admin.get(f"/api/v1/admin/org-units/{street}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == street
    assert body["name"] == "东湖街道"
    assert body["kind"] == "street"
    assert body["parent_id"] is None
    assert sorted(body["children"], key=lambda child: child["name"]) == sorted(
        [{"id": first, "name": "一社区", "kind": "community"}, {"id": second, "name": "二社区", "kind": "community"}],
        key=lambda child: child["name"],
    )


async def test_unit_without_children_has_empty_children_list(community: Community) -> None:
    unit = await community.org_unit("一网格", kind="grid")

    response = await community.admin.get(f"/api/v1/admin/org-units/{unit}")

    assert response.status_code == 200, response.text
    assert response.json()["children"] == []


async def test_every_documented_kind_is_accepted(community: Community) -> None:
    for kind in ("district", "street", "community", "area", "branch", "group", "household", "grid"):
        response = await community.admin.post(
            "/api/v1/admin/org-units", json={"name": f"单位-{kind}", "kind": kind, "parent_id": None}
        )
        assert response.status_code == 201, (kind, response.text)
        assert response.json()["kind"] == kind


async def test_unknown_kind_is_a_validation_error(community: Community) -> None:
    response = await community.admin.post(
        "/api/v1/admin/org-units", json={"name": "某单位", "kind": "village", "parent_id": None}
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_error"
    assert "kind" in {error["field"] for error in body["errors"]}


async def test_unit_under_unknown_parent_is_not_found(community: Community) -> None:
    response = await community.admin.post(
        "/api/v1/admin/org-units", json={"name": "一网格", "kind": "grid", "parent_id": str(uuid.uuid4())}
    )

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


async def test_unknown_unit_is_not_found(community: Community) -> None:
    response = await community.admin.get(f"/api/v1/admin/org-units/{uuid.uuid4()}")

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


async def test_staff_create_units_inside_their_subtree(community: Community) -> None:
    street = await community.org_unit("东湖街道", kind="street")
    unit = await community.org_unit("一社区", parent_id=street)
    staff = await community.staff(street)

    directly_under = await staff.post(
        "/api/v1/admin/org-units", json={"name": "二社区", "kind": "community", "parent_id": street}
    )
    deeper = await staff.post("/api/v1/admin/org-units", json={"name": "一网格", "kind": "grid", "parent_id": unit})

    assert directly_under.status_code == 201, directly_under.text
    assert deeper.status_code == 201, deeper.text
    assert deeper.json()["parent_id"] == unit


async def test_staff_cannot_create_units_outside_their_subtree(community: Community) -> None:
    mine = await community.org_unit("东湖街道", kind="street")
    other = await community.org_unit("西湖街道", kind="street")
    staff = await community.staff(mine)

    response = await staff.post(
        "/api/v1/admin/org-units", json={"name": "一社区", "kind": "community", "parent_id": other}
    )

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    children = (await community.admin.get(f"/api/v1/admin/org-units/{other}")).json()["children"]
    assert children == []


async def test_staff_cannot_create_units_above_their_own(community: Community) -> None:
    street = await community.org_unit("东湖街道", kind="street")
    unit = await community.org_unit("一社区", parent_id=street)
    staff = await community.staff(unit)

    response = await staff.post(
        "/api/v1/admin/org-units", json={"name": "二社区", "kind": "community", "parent_id": street}
    )

    assert response.status_code == 404, response.text


async def test_staff_cannot_create_top_level_units(community: Community) -> None:
    unit = await community.org_unit()
    staff = await community.staff(unit)

    response = await staff.post(
        "/api/v1/admin/org-units", json={"name": "新社区", "kind": "community", "parent_id": None}
    )

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


async def test_staff_cannot_read_units_outside_their_subtree(community: Community) -> None:
    mine = await community.org_unit("东湖街道", kind="street")
    other = await community.org_unit("西湖街道", kind="street")
    staff = await community.staff(mine)

    assert (await staff.get(f"/api/v1/admin/org-units/{mine}")).status_code == 200
    response = await staff.get(f"/api/v1/admin/org-units/{other}")

    assert response.status_code == 404, response.text


async def test_members_cannot_manage_the_org_tree(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    client = await community.client_for(member["username"])

    response = await client.post("/api/v1/admin/org-units", json={"name": "一网格", "kind": "grid", "parent_id": unit})

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


async def test_units_of_another_tenant_are_not_found(community: Community, other_community: Community) -> None:
    theirs = await other_community.org_unit("别处社区")

    read = await community.admin.get(f"/api/v1/admin/org-units/{theirs}")
    create_under = await community.admin.post(
        "/api/v1/admin/org-units", json={"name": "一网格", "kind": "grid", "parent_id": theirs}
    )

    assert read.status_code == 404, read.text
    assert create_under.status_code == 404, create_under.text


# -- members --------------------------------------------------------------------------------------


async def test_create_member_answers_201_with_the_member(community: Community) -> None:
    unit = await community.org_unit()

    response = await community.admin.post(
        "/api/v1/admin/members",
        json={
            "name": "张三",
            "phone": "13900001111",
            "org_unit_id": unit,
            "party_status": "in_service",
            "cadre_position": "楼栋长",
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["name"] == "张三"
    assert body["org_unit_id"] == unit
    assert body["party_status"] == "in_service"
    assert body["cadre_position"] == "楼栋长"


async def test_member_without_cadre_position_has_null(community: Community) -> None:
    unit = await community.org_unit()

    member = await community.member(unit)

    assert member["cadre_position"] is None
    assert member["party_status"] == "none"


async def test_get_member_returns_what_was_created(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="李四", party_status="retired")

    response = await community.admin.get(f"/api/v1/admin/members/{member['id']}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == member["id"]
    assert body["name"] == "李四"
    assert body["org_unit_id"] == unit
    assert body["party_status"] == "retired"
    assert body["cadre_position"] is None


async def test_unknown_member_is_not_found(community: Community) -> None:
    response = await community.admin.get(f"/api/v1/admin/members/{uuid.uuid4()}")

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


async def test_member_with_login_can_sign_in(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)

    response = await community.anonymous.post(
        "/api/v1/auth/login", json={"username": member["username"], "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "member"


async def test_duplicate_phone_is_a_conflict(community: Community) -> None:
    unit = await community.org_unit()
    first = await community.member(unit, name="张三")

    response = await community.admin.post(
        "/api/v1/admin/members",
        json={
            "name": "张三丰",
            "phone": first["phone"],
            "org_unit_id": unit,
            "party_status": "none",
        },
    )

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    assert await names_found(community.admin) == {"张三"}


async def test_duplicate_username_is_a_conflict(community: Community) -> None:
    unit = await community.org_unit()
    first = await community.member(unit, login=True)

    response = await community.admin.post(
        "/api/v1/admin/members",
        json={
            "name": "李四",
            "phone": "13900002222",
            "org_unit_id": unit,
            "party_status": "none",
            "username": first["username"],
            "password": PASSWORD,
        },
    )

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    assert await names_found(community.admin) == {"张三"}


async def test_same_phone_in_another_tenant_is_allowed(community: Community, other_community: Community) -> None:
    unit = await community.org_unit()
    theirs = await other_community.member(await other_community.org_unit())

    response = await community.admin.post(
        "/api/v1/admin/members",
        json={
            "name": "张三",
            "phone": theirs["phone"],
            "org_unit_id": unit,
            "party_status": "none",
        },
    )

    assert response.status_code == 201, response.text


async def test_member_in_unknown_unit_is_not_found(community: Community) -> None:
    response = await community.admin.post(
        "/api/v1/admin/members",
        json={
            "name": "张三",
            "phone": "13900003333",
            "org_unit_id": str(uuid.uuid4()),
            "party_status": "none",
        },
    )

    assert response.status_code == 404, response.text


async def test_unknown_party_status_is_a_validation_error(community: Community) -> None:
    unit = await community.org_unit()

    response = await community.admin.post(
        "/api/v1/admin/members",
        json={
            "name": "张三",
            "phone": "13900004444",
            "org_unit_id": unit,
            "party_status": "member",
        },
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"


async def test_staff_register_members_only_inside_their_subtree(community: Community) -> None:
    mine = await community.org_unit("东湖街道", kind="street")
    other = await community.org_unit("西湖街道", kind="street")
    staff = await community.staff(mine)

    inside = await staff.post(
        "/api/v1/admin/members",
        json={
            "name": "张三",
            "phone": "13900005555",
            "org_unit_id": mine,
            "party_status": "none",
        },
    )
    outside = await staff.post(
        "/api/v1/admin/members",
        json={
            "name": "李四",
            "phone": "13900006666",
            "org_unit_id": other,
            "party_status": "none",
        },
    )

    assert inside.status_code == 201, inside.text
    assert outside.status_code == 404, outside.text
    assert await names_found(community.admin) == {"张三"}


async def test_staff_cannot_read_members_outside_their_subtree(community: Community) -> None:
    mine = await community.org_unit("东湖街道", kind="street")
    other = await community.org_unit("西湖街道", kind="street")
    staff = await community.staff(mine)
    inside = await community.member(mine, name="张三")
    outside = await community.member(other, name="李四")

    assert (await staff.get(f"/api/v1/admin/members/{inside['id']}")).status_code == 200
    response = await staff.get(f"/api/v1/admin/members/{outside['id']}")

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


# -- search ---------------------------------------------------------------------------------------


async def test_search_by_name_substring(community: Community) -> None:
    unit = await community.org_unit()
    for name in ("欧阳娜娜", "娜扎", "张三"):
        await community.member(unit, name=name)

    assert await names_found(community.admin, q="娜") == {"欧阳娜娜", "娜扎"}
    assert await names_found(community.admin, q="阳娜") == {"欧阳娜娜"}


async def test_search_by_last_four_phone_digits(community: Community) -> None:
    unit = await community.org_unit()
    await community.member(unit, name="张三", phone=phone_ending("4321"))
    await community.member(unit, name="李四", phone=phone_ending("9876"))

    assert await names_found(community.admin, q="4321") == {"张三"}


async def test_phone_digits_elsewhere_in_the_number_do_not_match(community: Community) -> None:
    unit = await community.org_unit()
    await community.member(unit, name="张三", phone="13843210000")

    assert await names_found(community.admin, q="4321") == set()


async def test_search_by_pinyin_initials_ignores_case(community: Community) -> None:
    unit = await community.org_unit()
    for name in ("张三", "赵六", "李四"):
        await community.member(unit, name=name)

    assert await names_found(community.admin, q="zs") == {"张三"}
    assert await names_found(community.admin, q="ZS") == {"张三"}
    assert await names_found(community.admin, q="Zs") == {"张三"}


async def test_search_by_pinyin_initials_prefix(community: Community) -> None:
    unit = await community.org_unit()
    for name in ("张三", "赵六", "李四"):
        await community.member(unit, name=name)

    assert await names_found(community.admin, q="z") == {"张三", "赵六"}
    assert await names_found(community.admin, q="l") == {"李四"}
    assert await names_found(community.admin, q="s") == set()


async def test_search_without_query_lists_everyone(community: Community) -> None:
    unit = await community.org_unit()
    for name in ("张三", "赵六", "李四"):
        await community.member(unit, name=name)

    assert await names_found(community.admin) == {"张三", "赵六", "李四"}


async def test_search_treats_like_wildcards_literally(community: Community) -> None:
    unit = await community.org_unit()
    await community.member(unit, name="张三")

    assert await names_found(community.admin, q="%") == set()
    assert await names_found(community.admin, q="_") == set()


async def test_search_by_org_unit_includes_its_whole_subtree_but_not_siblings(community: Community) -> None:
    street = await community.org_unit("东湖街道", kind="street")
    community_a = await community.org_unit("一社区", parent_id=street)
    grid = await community.org_unit("一网格", kind="grid", parent_id=community_a)
    household = await community.org_unit("一户", kind="household", parent_id=grid)
    community_b = await community.org_unit("二社区", parent_id=street)
    await community.member(community_a, name="社区甲")
    await community.member(grid, name="网格甲")
    await community.member(household, name="住户甲")
    await community.member(community_b, name="社区乙")
    await community.member(street, name="街道人")

    assert await names_found(community.admin, org_unit_id=community_a) == {"社区甲", "网格甲", "住户甲"}
    assert await names_found(community.admin, org_unit_id=grid) == {"网格甲", "住户甲"}
    assert await names_found(community.admin, org_unit_id=street) == {"社区甲", "网格甲", "住户甲", "社区乙", "街道人"}


async def test_search_combines_query_and_org_unit(community: Community) -> None:
    first = await community.org_unit("一社区")
    second = await community.org_unit("二社区")
    await community.member(first, name="张三")
    await community.member(second, name="张四")

    assert await names_found(community.admin, q="张", org_unit_id=first) == {"张三"}


async def test_search_by_unknown_org_unit_is_not_found(community: Community) -> None:
    response = await community.admin.get("/api/v1/admin/members", params={"org_unit_id": str(uuid.uuid4())})

    assert response.status_code == 404, response.text


async def test_staff_search_sees_only_their_subtree(community: Community) -> None:
    street = await community.org_unit("东湖街道", kind="street")
    mine = await community.org_unit("一社区", parent_id=street)
    grid = await community.org_unit("一网格", kind="grid", parent_id=mine)
    sibling = await community.org_unit("二社区", parent_id=street)
    await community.member(mine, name="张三")
    await community.member(grid, name="张五")
    await community.member(sibling, name="张四")
    await community.member(street, name="张六")
    staff = await community.staff(mine)

    assert await names_found(staff) == {"张三", "张五"}
    assert await names_found(staff, q="张") == {"张三", "张五"}
    assert await names_found(staff, q="z") == {"张三", "张五"}


async def test_staff_search_in_a_unit_outside_their_subtree_is_not_found(community: Community) -> None:
    mine = await community.org_unit("一社区")
    other = await community.org_unit("二社区")
    await community.member(other, name="张四")
    staff = await community.staff(mine)

    response = await staff.get("/api/v1/admin/members", params={"org_unit_id": other})

    assert response.status_code == 404, response.text


async def test_search_never_shows_another_tenants_members(community: Community, other_community: Community) -> None:
    await community.member(await community.org_unit(), name="张三")
    await other_community.member(await other_community.org_unit(), name="张四")

    assert await names_found(community.admin, q="张") == {"张三"}


async def test_pagination_visits_every_member_exactly_once(community: Community) -> None:
    unit = await community.org_unit()
    created = {(await community.member(unit, name=f"成员{index}"))["id"] for index in range(7)}

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await community.admin.get("/api/v1/admin/members", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 3
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"

    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created


async def test_last_full_page_has_no_next_cursor(community: Community) -> None:
    unit = await community.org_unit()
    for index in range(4):
        await community.member(unit, name=f"成员{index}")

    first = (await community.admin.get("/api/v1/admin/members", params={"limit": 2})).json()
    second = (
        await community.admin.get("/api/v1/admin/members", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()

    assert first["next_cursor"] is not None
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


async def test_limit_out_of_range_is_a_validation_error(community: Community) -> None:
    for limit in (0, 201):
        response = await community.admin.get("/api/v1/admin/members", params={"limit": limit})
        assert response.status_code == 400, (limit, response.text)
        assert response.json()["code"] == "validation_error"


async def test_garbage_cursor_is_a_validation_error(community: Community) -> None:
    response = await community.admin.get("/api/v1/admin/members", params={"cursor": "not-a-cursor"})

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"


# -- staff accounts -------------------------------------------------------------------------------


async def test_admin_creates_staff_who_can_sign_in(community: Community) -> None:
    unit = await community.org_unit()
    username = unique("s")

    response = await community.admin.post(
        "/api/v1/admin/staff",
        json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["username"] == username
    assert body["role"] == "staff"
    assert body["org_unit_id"] == unit
    login = await community.anonymous.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["role"] == "staff"


async def test_admin_creates_another_admin(community: Community) -> None:
    username = unique("a")

    response = await community.admin.post(
        "/api/v1/admin/staff", json={"username": username, "password": PASSWORD, "org_unit_id": None, "role": "admin"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["role"] == "admin"
    new_admin = await community.client_for(username)
    assert (
        await new_admin.post("/api/v1/admin/org-units", json={"name": "新社区", "kind": "community", "parent_id": None})
    ).status_code == 201


async def test_staff_cannot_create_staff(community: Community) -> None:
    unit = await community.org_unit()
    staff = await community.staff(unit)

    response = await staff.post(
        "/api/v1/admin/staff",
        json={"username": unique("s"), "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
    )

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


async def test_duplicate_staff_username_is_a_conflict(community: Community) -> None:
    unit = await community.org_unit()
    username = unique("s")
    body = {"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"}
    assert (await community.admin.post("/api/v1/admin/staff", json=body)).status_code == 201

    response = await community.admin.post("/api/v1/admin/staff", json={**body, "username": username.upper()})

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"


async def test_staff_in_unknown_unit_is_not_found(community: Community) -> None:
    response = await community.admin.post(
        "/api/v1/admin/staff",
        json={"username": unique("s"), "password": PASSWORD, "org_unit_id": str(uuid.uuid4()), "role": "staff"},
    )

    assert response.status_code == 404, response.text
