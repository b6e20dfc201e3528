"""The applications augury's predictive models serve (Anaimo's applications).

>>> sorted(APPLICATIONS)
['classification', 'failure', 'forecast', 'regression']
>>> APPLICATIONS["failure"]["tasks"]
['binary']
"""

from __future__ import annotations

APPLICATIONS: dict[str, dict] = {
    "forecast": {
        "title": "Forecast",
        "description": (
            "Time series in a table: a date column, a numeric target and optional series-id "
            "columns; forecasts each series some steps ahead with prediction intervals."
        ),
        "tasks": ["forecast"],
    },
    "failure": {
        "title": "Failure prediction",
        "description": (
            "A binary target with rare positives (failures, churn, fraud): calibrated "
            "probabilities and a decision threshold chosen for the cost of a missed failure "
            "against a false alarm."
        ),
        "tasks": ["binary"],
    },
    "classification": {
        "title": "Classification",
        "description": "Any categorical target: calibrated probabilities per class.",
        "tasks": ["binary", "multiclass"],
    },
    "regression": {
        "title": "Regression",
        "description": "A numeric target: predictions with an 80 % prediction interval.",
        "tasks": ["regression"],
    },
}
