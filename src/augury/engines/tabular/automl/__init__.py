"""augury's predictive models on tables (pure code the server, ``augury model`` and
``make bench-tabular`` share).

* :func:`plan`: the task, features and excluded columns (with reasons), no training;
* :func:`train`: the AutoML (:mod:`.search`): honest validation, linear and LightGBM
  candidates within a time budget, a blend when it validates better, calibration, the
  decision threshold; or a forecast per series (:mod:`.forecasting`);
* the result (:class:`TabularModel` or :class:`ForecastModel`): ``predict``,
  ``explain`` (TreeSHAP and linear contributions per column), ``summary``, ``save``;
  :func:`load` reads a saved model back, pickle-free and hash-checked.
"""

from .applications import APPLICATIONS
from .errors import ModelError
from .forecasting import ForecastModel
from .model import Explanation, TabularModel, load
from .planning import Plan, TrainOptions, plan
from .search import train

__all__ = [
    "APPLICATIONS",
    "Explanation",
    "ForecastModel",
    "ModelError",
    "Plan",
    "TabularModel",
    "TrainOptions",
    "load",
    "plan",
    "train",
]
