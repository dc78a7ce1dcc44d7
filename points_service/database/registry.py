"""Imports every table so `Base.metadata` is complete (Alembic and the drift test read it).

The one module of points_service besides the app factory that imports the other packages: the
schema is one schema.
"""

from admin.evaluations import models as evaluation_models
from admin.warnings import models as warning_models
from merchants.accounts import models as merchant_models
from merchants.redemptions import models as redemption_models
from merchants.rewards import models as reward_models
from points_service.activities import models as activity_models
from points_service.auth import models as auth_models
from points_service.claims import models as claim_models
from points_service.database.base import Base
from points_service.duty import models as duty_models
from points_service.feedback import models as feedback_models
from points_service.idempotency import models as idempotency_models
from points_service.ledger import models as ledger_models
from points_service.org import models as org_models
from points_service.proxies import models as proxy_models
from points_service.registration import models as registration_models
from points_service.reports import models as report_models
from points_service.rules import models as rules_models
from points_service.tenancy import models as tenancy_models
from points_service.wishes import models as wish_models

__all__ = [
    "Base",
    "activity_models",
    "auth_models",
    "claim_models",
    "duty_models",
    "evaluation_models",
    "feedback_models",
    "idempotency_models",
    "ledger_models",
    "merchant_models",
    "org_models",
    "proxy_models",
    "redemption_models",
    "registration_models",
    "report_models",
    "reward_models",
    "rules_models",
    "tenancy_models",
    "warning_models",
    "wish_models",
]
