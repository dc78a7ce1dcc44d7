"""The console's part of `points-service demo`: this month's evaluation of the community, computed and
published, so the 公示 board and the members' 我的考评 have results to show."""

from __future__ import annotations

from admin.evaluations.service import DEFAULT_BANDS, EvaluationService
from points_service.demo_scene import DemoScene
from points_service.tenancy.periods import month_start


async def publish_evaluation(scene: DemoScene) -> None:
    evaluations = EvaluationService(scene.session, scene.principal, scene.org)
    today = scene.clock.today()
    evaluation = await evaluations.create(
        {
            "name": f"{today.year}年{today.month}月 党员积分考评",
            "org_unit_id": scene.community_id,
            "target": "all",
            "period_start": month_start(today),
            "period_end": today,
            "metrics": [
                {"metric": "earned_points", "weight": 0.8},
                {"metric": "micro_wishes_fulfilled", "weight": 0.2},
            ],
            "top_n": 0,
            "grade_bands": dict(DEFAULT_BANDS),
        }
    )
    await evaluations.run(evaluation.id)
    await evaluations.publish(evaluation.id)
