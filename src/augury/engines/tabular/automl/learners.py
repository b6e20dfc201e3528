"""The two kinds of learner the search tries: gradient-boosted trees (LightGBM) and a
regularised linear model (scikit-learn), both reduced to what predicting needs.

Both give *margins*: log-odds for a binary target, one score per class for a
multiclass one (softmax gives the probabilities), the prediction itself for a
regression. Margins add up, so an ensemble is a weighted sum of its members' margins
and an explanation is the same weighted sum of their per-column contributions.

A fitted learner is saved as data: LightGBM's own text format for the trees,
coefficient arrays for the linear model; nothing is pickled.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

EARLY_STOP = 60
MAX_ROUNDS = 3000
STAGES = 100


@dataclass
class Trees:
    """A LightGBM booster over :meth:`Encoder.transform`'s matrix."""

    params: dict[str, Any]
    booster: lgb.Booster | None = None
    rounds: int = 0
    curve: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """With ``valid``: the validation loss after each round boosted."""
    staged: tuple[np.ndarray, np.ndarray] | None = None
    """With ``valid``: the validation rows' margins after some rounds (at most
    :data:`STAGES` of them, evenly spaced), for :meth:`margin_at`."""

    name = "lightgbm"

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        task: str,
        n_classes: int,
        categorical: list[int],
        valid: tuple[np.ndarray, np.ndarray] | None = None,
        rounds: int | None = None,
        threads: int | None = None,
        deadline: float | None = None,
    ) -> Trees:
        """Fit on ``X``; with ``valid``, boost until the validation loss stops improving
        (by ``EARLY_STOP`` rounds, or by a relative 1e-5 for a classifier whose loss
        creeps towards zero) or until ``deadline`` (``time.monotonic()``), whichever
        comes first; without, boost exactly ``rounds``."""
        params = {
            **_objective(task, n_classes),
            **self.params,
            "verbosity": -1,
            "num_threads": threads if threads is not None else _threads(X),
            "deterministic": True,
            "force_col_wise": True,
        }
        data = lgb.Dataset(
            X,
            y,
            categorical_feature=categorical or "auto",
            free_raw_data=True,
            params={"max_bin": params.get("max_bin", 255)},
        )
        if valid is not None:
            vdata = lgb.Dataset(
                valid[0], valid[1], reference=data, categorical_feature=categorical or "auto"
            )
            evals: dict[str, Any] = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.booster = lgb.train(
                    params,
                    data,
                    num_boost_round=MAX_ROUNDS,
                    valid_sets=[vdata],
                    valid_names=["valid"],
                    callbacks=[
                        lgb.record_evaluation(evals),
                        lgb.early_stopping(
                            EARLY_STOP,
                            verbose=False,
                            min_delta=1e-5 if task != "regression" else 0.0,
                        ),
                        *([_stop_at(deadline)] if deadline is not None else []),
                    ],
                )
            self.rounds = max(1, int(self.booster.best_iteration or MAX_ROUNDS))
            recorded: list[float] = next(iter(evals.get("valid", {}).values()), [])
            self.curve = np.asarray(recorded, dtype=np.float64)
            self.staged = self._stages(valid[0])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.booster = lgb.train(params, data, num_boost_round=max(1, int(rounds or 100)))
            self.rounds = int(rounds or 100)
        return self

    def _stages(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Margins of ``X`` after evenly spaced numbers of rounds, the trees of each
        stretch predicted once: the search scores every fold at a number of rounds it
        knows only once all are boosted, and keeping these instead of the boosters
        holds a few MB where fifteen multiclass boosters held hundreds."""
        assert self.booster is not None
        grown = max(1, self.booster.current_iteration())
        step = -(-grown // STAGES)
        ends = np.unique(np.append(np.arange(step, grown + 1, step), grown))
        out: list[np.ndarray] = []
        start = 0
        for end in ends:
            part = self.booster.predict(
                X, raw_score=True, start_iteration=start, num_iteration=int(end - start)
            )
            part = np.asarray(part, dtype=np.float64)
            out.append(part if not out else out[-1] + part)
            start = int(end)
        return ends, np.stack(out)

    def margin_at(self, rounds: int) -> np.ndarray:
        """The validation rows' margins after the last stage within ``rounds`` (the
        first stage when none is)."""
        assert self.staged is not None
        ends, margins = self.staged
        return margins[max(0, int(np.searchsorted(ends, rounds, side="right")) - 1)]

    def margin(self, X: np.ndarray) -> np.ndarray:
        assert self.booster is not None
        return np.asarray(
            self.booster.predict(X, raw_score=True, num_iteration=self.rounds), dtype=np.float64
        )

    def contributions(self, X: np.ndarray, n_classes: int) -> np.ndarray:
        """TreeSHAP values: (rows, columns + 1) with the base last, or (rows, classes,
        columns + 1) for a multiclass model."""
        assert self.booster is not None
        out = np.asarray(
            self.booster.predict(X, pred_contrib=True, num_iteration=self.rounds), dtype=np.float64
        )
        if n_classes > 2:
            return out.reshape(len(X), n_classes, -1)
        return out

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
        assert self.booster is not None
        text = self.booster.model_to_string(num_iteration=self.rounds)
        return {"params": self.params, "rounds": self.rounds}, {}, [text]

    @classmethod
    def from_state(
        cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], text: list[str]
    ) -> Trees:
        booster = lgb.Booster(model_str=text[0])
        return cls(meta["params"], booster, int(meta["rounds"]))


@dataclass
class Linear:
    """Logistic (binary, multinomial) or ridge regression over :meth:`Encoder.linear`."""

    params: dict[str, Any]
    coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(0))

    name = "linear"

    def fit(self, Z: np.ndarray, y: np.ndarray, task: str, n_classes: int) -> Linear:
        from sklearn.linear_model import LogisticRegression, Ridge

        strength = float(self.params.get("C", 1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if task == "regression":
                model: Any = Ridge(alpha=1.0 / strength).fit(Z, y)
                self.coef = np.atleast_2d(model.coef_).astype(np.float64)
                self.intercept = np.atleast_1d(model.intercept_).astype(np.float64)
            else:
                model = LogisticRegression(C=strength, max_iter=2000).fit(Z, y.astype(int))
                coef, intercept = model.coef_, model.intercept_
                if n_classes > 2 and coef.shape[0] != n_classes:  # a fold lacked a class
                    full = np.zeros((n_classes, coef.shape[1]))
                    full_b = np.full(n_classes, -30.0)
                    for row, k in enumerate(model.classes_):
                        full[int(k)], full_b[int(k)] = coef[row], intercept[row]
                    coef, intercept = full, full_b
                self.coef = np.asarray(coef, dtype=np.float64)
                self.intercept = np.asarray(intercept, dtype=np.float64)
        return self

    def margin(self, Z: np.ndarray) -> np.ndarray:
        out = Z @ self.coef.T + self.intercept
        return out[:, 0] if out.shape[1] == 1 else out

    def contributions(
        self, Z: np.ndarray, means: np.ndarray, owners: list[int], width: int
    ) -> np.ndarray:
        """Per-column contributions (coefficient times the value's distance from the
        training mean), summed into :meth:`Encoder.transform`'s columns, base last."""
        k = self.coef.shape[0]
        out = np.zeros((len(Z), k, width + 1))
        parts = (Z - means)[:, None, :] * self.coef[None, :, :]
        index = np.asarray(owners)
        for j in range(width):
            out[:, :, j] = parts[:, :, index == j].sum(axis=2)
        out[:, :, width] = (self.intercept + self.coef @ means)[None, :]
        return out[:, 0, :] if k == 1 else out

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
        return {"params": self.params}, {"coef": self.coef, "intercept": self.intercept}, []

    @classmethod
    def from_state(
        cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], text: list[str]
    ) -> Linear:
        return cls(meta["params"], arrays["coef"], arrays["intercept"])


def _stop_at(deadline: float) -> Callable[[Any], None]:
    """A LightGBM callback that ends boosting at ``deadline``, keeping the best
    iteration so far (what early stopping would keep)."""

    best: dict[str, Any] = {"score": None, "iteration": 0, "results": []}

    def callback(env: Any) -> None:
        results = env.evaluation_result_list or []
        if results:
            _, _, score, higher_better = results[0][:4]
            if best["score"] is None or (
                score > best["score"] if higher_better else score < best["score"]
            ):
                best.update(score=score, iteration=env.iteration, results=results)
        if time.monotonic() > deadline:
            raise lgb.callback.EarlyStopException(best["iteration"], best["results"])

    callback.order = 30  # type: ignore[attr-defined]  # after early stopping's own check
    return callback


def _threads(X: np.ndarray) -> int:
    """One thread below a few million cells: LightGBM's OpenMP threads spin while they
    wait, so on a busy machine (a server with jobs, a CI runner) several threads on a
    small table run ten times slower than one; a big table is worth every core."""
    return 1 if X.size < 4_000_000 else 0


def _objective(task: str, n_classes: int) -> dict[str, Any]:
    if task == "regression":
        return {"objective": "regression"}
    if n_classes > 2:
        return {"objective": "multiclass", "num_class": n_classes}
    return {"objective": "binary"}


def tree_grid(
    rows: int, columns: int, positive_rate: float | None, seed: int
) -> list[dict[str, Any]]:
    """LightGBM settings to try, most promising first: a sound default, a small-data
    and a wide-data variant, one for rare positives, then a random search."""
    small = rows < 2000
    base = {
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
    }
    grid = [
        {**base, "num_leaves": 15 if small else 31, "min_data_in_leaf": 10 if small else 20},
        {
            **base,
            "learning_rate": 0.03,
            "num_leaves": 7,
            "min_data_in_leaf": 5 if small else 30,
            "lambda_l2": 5.0,
            "feature_fraction": 0.7,
            "extra_trees": True,
        },
        {
            **base,
            "num_leaves": 63,
            "min_data_in_leaf": 30,
            "feature_fraction": 0.6,
            "lambda_l2": 3.0,
        },
    ]
    if positive_rate is not None and positive_rate < 0.1:
        grid.append(
            {
                **base,
                "num_leaves": 15,
                "scale_pos_weight": float(np.sqrt((1 - positive_rate) / max(positive_rate, 1e-6))),
                "min_data_in_leaf": 10,
            }
        )
    rng = np.random.default_rng(seed)
    for _ in range(12):
        grid.append(
            {
                **base,
                "learning_rate": float(rng.choice([0.02, 0.03, 0.05, 0.08])),
                "num_leaves": int(rng.choice([4, 7, 15, 31, 63, 127])),
                "min_data_in_leaf": int(rng.choice([3, 5, 10, 20, 40, 80])),
                "feature_fraction": float(rng.choice([0.4, 0.6, 0.8, 1.0])),
                "bagging_fraction": float(rng.choice([0.6, 0.8, 1.0])),
                "lambda_l2": float(rng.choice([0.0, 1.0, 5.0, 20.0])),
                "min_sum_hessian_in_leaf": float(rng.choice([1e-3, 1e-1, 1.0])),
                "extra_trees": bool(rng.random() < 0.3),
            }
        )
    return grid


def linear_grid() -> list[dict[str, Any]]:
    return [{"C": c} for c in (0.01, 0.1, 1.0, 10.0)]
