"""Moving an org unit in the console (org page, "调整上级"): the unit goes under its new parent with
everything below it, so its members are then counted, listed and ranked there (the leaderboards forget
the old paths); staff outside the unit's or the target's reach are refused, and so is a move under the
unit's own subtree, each with a message."""

from __future__ import annotations

import httpx

from tests.admin.test_console import CSRF_FIELD, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.conftest import Community, ServedApp


async def leaders(staff: httpx.AsyncClient, unit: str) -> list[str]:
    answer = await staff.get("/api/v1/leaderboards", params={"period": "all", "org_unit_id": unit})
    assert answer.status_code == 200, answer.text
    return [item["display_name"] for item in answer.json()["items"]]


async def test_a_unit_moves_with_its_members_only_within_reach_and_never_under_itself(
    community: Community, served: ServedApp
) -> None:
    street = await community.org_unit("东城街道", "street")
    red = await community.org_unit("红旗社区", "community", street)
    east = await community.org_unit("东风社区", "community", street)
    area = await community.org_unit("幸福小区", "area", red)
    grid = await community.org_unit("一号网格", "grid", area)
    rule = await community.rule(points=1)
    members = {}
    for unit, name in ((area, "周小区"), (grid, "吴网格")):
        members[name] = await community.member(unit, name=name)
        assert (await community.award(members[name]["id"], rule, quantity=7)).status_code == 201

    street_staff = await staff_login(community, street)
    web = await signed_in_web(served, street_staff)
    ranks = await community.client_for(street_staff)
    # Read once before the move, so the server has the subtree's old paths at hand.
    assert set(await leaders(ranks, area)) == {"周小区", "吴网格"}
    assert set(await leaders(ranks, east)) == set()

    page = await web.get("/admin/", params={"unit": area})
    csrf = CSRF_FIELD.search(page.text)
    assert csrf is not None and 'class="move-unit"' in page.text
    # The choice offers neither the unit itself, nor what is below it, nor its parent now.
    move_form = page.text.split('class="move-unit"', 1)[1].split("</form>", 1)[0]
    assert east in move_form and grid not in move_form and f'value="{red}"' not in move_form
    token = csrf.group(1)

    moved = await web.post(
        f"/admin/units/{area}/move", data={"_csrf_token": token, "back": f"/admin/?unit={area}", "parent_id": east}
    )
    assert moved.status_code == 303, moved.text
    shown = await web.get(moved.headers["location"])
    assert "组织已调整到新的上级" in shown.text
    assert f'href="/admin/?unit={east}"' in shown.text  # "up" leads to the new parent

    members_east = await web.get("/admin/members", params={"unit": east})
    members_red = await web.get("/admin/members", params={"unit": red})
    assert "周小区" in members_east.text and "吴网格" in members_east.text
    assert "周小区" not in members_red.text and "吴网格" not in members_red.text
    assert set(await leaders(ranks, east)) == {"周小区", "吴网格"}
    assert set(await leaders(ranks, area)) == {"周小区", "吴网格"}
    assert await leaders(ranks, red) == []
    unit = (await community.admin.get(f"/api/v1/admin/org-units/{grid}")).json()
    assert unit["parent_id"] == area

    # Under its own subtree: refused in words, nothing changed.
    looped = await web.post(
        f"/admin/units/{east}/move", data={"_csrf_token": token, "back": f"/admin/?unit={east}", "parent_id": grid}
    )
    refused = await web.get(looped.headers["location"])
    assert "不能把组织调到它自己或它的下级组织下面" in refused.text
    assert (await community.admin.get(f"/api/v1/admin/org-units/{east}")).json()["parent_id"] == street

    # A member moved on their own (the console member page) leaves the unit's boards as well.
    member_path = f"/admin/members/{members['周小区']['id']}"
    alone = await web.post(f"{member_path}/move", data={"_csrf_token": token, "back": member_path, "org_unit_id": red})
    assert "已调动" in (await web.get(alone.headers["location"])).text
    assert await leaders(ranks, red) == ["周小区"]
    assert await leaders(ranks, area) == ["吴网格"]

    # Staff of one community can move nothing out to another one, nor bring anything in.
    red_web = await signed_in_web(served, await staff_login(community, red))
    red_page = await red_web.get("/admin/", params={"unit": red})
    red_token = CSRF_FIELD.search(red_page.text)
    assert red_token is not None
    for unit_id, parent in ((area, red), (red, east)):
        tried = await red_web.post(
            f"/admin/units/{unit_id}/move",
            data={"_csrf_token": red_token.group(1), "back": f"/admin/?unit={red}", "parent_id": parent},
        )
        assert tried.status_code == 303
        answer = await red_web.get(tried.headers["location"])
        assert "组织已调整" not in answer.text and 'id="error"' in answer.text
    assert (await community.admin.get(f"/api/v1/admin/org-units/{area}")).json()["parent_id"] == east
    assert (await community.admin.get(f"/api/v1/admin/org-units/{red}")).json()["parent_id"] == street
    for client in (web, ranks, red_web):
        await client.aclose()
