"""Imports every domain's tables so that ``Base.metadata`` is complete (Alembic, tests)."""

from augury.accounts import models as accounts_models  # noqa: F401
from augury.alerts import models as alerts_models  # noqa: F401
from augury.anomalies import models as anomalies_models  # noqa: F401
from augury.audit import models as audit_models  # noqa: F401
from augury.forecasts import models as forecasts_models  # noqa: F401
from augury.jobs import models as jobs_models  # noqa: F401
from augury.metrics import models as metrics_models  # noqa: F401
from augury.store.base import Base

metadata = Base.metadata
