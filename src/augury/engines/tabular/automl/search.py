"""augury's AutoML: validate candidates honestly, keep the best (or a blend of them that
validates better), calibrate, choose the threshold, refit on everything.

**Validation.** With a date column the folds are time-ordered (the rows sorted by date
in ``folds + 1`` blocks; fold *k* trains on blocks 0..k and validates on block k+1, so
the model never learns from the future); otherwise stratified *k*-fold for classes and
shuffled *k*-fold for a regression, repeated three times on tables of up to
:data:`SMALL_ROWS` rows (choosing on a few hundred rows is noisy; repeats are cheap
there). Every candidate is scored on the same out-of-fold rows.

**Candidates.** A regularised linear model at four strengths, then LightGBM settings (a
sound default, a small-data and a wide-data variant, a rare-positive variant, then a
seeded random search). Each fold boosts with early stopping on its validation rows,
but every fold is then scored at one number of rounds, where the folds' mean validation
loss is lowest (as ``lgb.cv`` chooses): scored at its own best round, each fold would
let the rows it is graded on pick its model, which flatters the trees against the
linear model (whose strength is chosen across the folds). They are tried while the
time budget lasts: a candidate is not started when the ones before suggest it would not
finish, one that runs past the budget is dropped whole, and every fold's boosting stops
at its share of the time left, so even the first candidates end within the budget.

**Choice and blend.** The best candidate, or the best linear one when the best does not
beat it by more than one standard error of their paired difference over the folds (the
one-standard-error rule: on a small or nearly linear table the trees' edge is often the
luck of a few hundred rows). Then greedy forward selection with replacement over the
candidates' out-of-fold margins (Caruana et al., 2004), kept only when blends chosen
without each fold's rows do better than that choice on those rows, on average over the
folds (a blend's own score is flattered by weights chosen on the rows it is scored on).

**Calibration and threshold.** Platt scaling (binary) or a temperature (multiclass) fitted
on the blend's out-of-fold margins. A failure model's threshold maximises F1 on the
out-of-fold probabilities, or minimises the expected cost when the costs of a missed
failure and of a false alarm are given; any other binary classifier decides at 0.5 (its
probabilities are calibrated). The confusion matrix is the out-of-fold one at that
threshold. A regression's 80 % interval is the 10th to 90th percentile of its
out-of-fold residuals (split-conformal).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.model_selection import KFold, StratifiedKFold

from .encoding import Encoder
from .errors import ModelError
from .learners import Linear, Trees, linear_grid, tree_grid
from .model import Member, TabularModel, probabilities
from .planning import Plan, TrainOptions, labels_of, parse_dates, plan

Progress = Callable[[float, str], None]
SMALL_ROWS = 3000
"""Up to this many rows the folds are repeated three times (other shuffles): choosing
among candidates, blending and thresholds on a few hundred rows is noisy, and three
repeats cost little there."""


def train(
    frame: pd.DataFrame,
    target: str,
    options: TrainOptions | None = None,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Any:
    """Train the best model the budget allows for ``target`` (see the module's text)."""
    options = options or TrainOptions()
    started = time.monotonic()
    tell = progress or (lambda pct, msg: None)
    stop = should_stop or (lambda: False)
    p = plan(frame, target, options)
    left = len(p.excluded)
    tell(2.0, f"{p.task}: {len(p.features)} features, {left} column{'s' * (left != 1)} left out")
    if p.task == "forecast":
        from .forecasting import train_forecast

        return train_forecast(frame, p, options, tell, stop, started)
    return _Search(frame, p, options, tell, stop, started).run()


class _Search:
    def __init__(
        self,
        frame: pd.DataFrame,
        p: Plan,
        options: TrainOptions,
        tell: Progress,
        stop: Callable[[], bool],
        started: float,
    ):
        self.plan, self.options, self.tell, self.stop, self.started = (
            p,
            options,
            tell,
            stop,
            started,
        )
        y_raw = frame[p.target]
        known = y_raw.notna()
        if y_raw.dtype == object or pd.api.types.is_string_dtype(y_raw):
            known &= y_raw.astype("string").str.strip().fillna("") != ""
        rows = frame.loc[known]
        self.ordered = p.date_column is not None
        if self.ordered:
            when = parse_dates(rows[p.date_column])
            rows = rows.iloc[np.argsort(when.to_numpy(dtype="datetime64[ns]"), kind="stable")]
        self.rows = rows.reset_index(drop=True)
        self.task = p.task
        if self.task == "regression":
            self.y = pd.to_numeric(self.rows[p.target], errors="coerce").to_numpy(dtype=float)
        else:
            names = p.classes or []
            index = {c: i for i, c in enumerate(names)}
            self.y = labels_of(self.rows[p.target]).map(index).to_numpy(dtype=float)
        self.k = len(p.classes or []) if self.task == "multiclass" else 2
        self.encoder = Encoder.fit(self.rows[p.features], p.kinds)
        self.X = self.encoder.transform(self.rows)
        self.Z = self.encoder.linear(self.X)
        self.repeats = 1 if self.ordered or len(self.y) > SMALL_ROWS else 3
        self.folds = self._folds()
        # Out-of-fold predictions are kept per repeat, stacked: row i of repeat r at
        # r * n + i. Averaged over the repeats, each row's prediction would be a bag of
        # three models, which flatters the trees (whose variance it averages away)
        # against the linear model and the single model finally refit.
        n = len(self.y)
        self.per = len(self.folds) // self.repeats
        """Folds per repeat."""
        self.scored = [(tr, va + (i // self.per) * n) for i, (tr, va) in enumerate(self.folds)]
        self.Y = np.tile(self.y, self.repeats)
        self.valid = np.zeros(len(self.Y), dtype=bool)
        for _, v in self.scored:
            self.valid[v] = True
        self.first = self.valid & (np.arange(len(self.Y)) < n)
        """The validated rows of the first repeat: the confusion matrix counts each once."""
        self.budget = max(5.0, float(options.time_budget_s))
        self._candidate_end = started + 0.8 * self.budget

    # ---- validation ---------------------------------------------------------------
    def _folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        n = len(self.y)
        k = max(2, min(self.options.folds, n // 5))
        if self.ordered:
            edges = np.linspace(0, n, k + 2).astype(int)
            return [
                (np.arange(0, edges[i + 1]), np.arange(edges[i + 1], edges[i + 2]))
                for i in range(k)
            ]
        folds: list[tuple[np.ndarray, np.ndarray]] = []
        for repeat in range(self.repeats):
            seed = self.options.seed + 1000 * repeat
            splitter: Any = KFold(k, shuffle=True, random_state=seed)
            if self.task != "regression":
                counts = np.bincount(self.y.astype(int))
                smallest = int(counts[counts > 0].min())
                if smallest >= 2:
                    splitter = StratifiedKFold(min(k, smallest), shuffle=True, random_state=seed)
                    folds += splitter.split(self.X, self.y.astype(int))
                    continue
            folds += splitter.split(self.X)
        return folds

    def _oof(
        self, make: Callable[[], Trees | Linear], deadline: float | None = None
    ) -> tuple[np.ndarray, list[int]] | None:
        """Out-of-fold margins of one candidate (``None`` when it would finish after
        ``deadline``: a candidate that does not fit the budget is dropped whole)."""
        shape = (len(self.Y), self.k) if self.task == "multiclass" else (len(self.Y),)
        oof = np.zeros(shape)
        grown: list[tuple[Trees, np.ndarray]] = []
        for done, ((tr, va), (_, at)) in enumerate(zip(self.folds, self.scored, strict=True)):
            if self.stop():
                raise ModelError("ABORTED", "Training was aborted.")
            now = time.monotonic()
            if deadline is not None and now > deadline:
                return None
            # each fold may boost until its share of the time left, so even the
            # essential first candidates end within the budget
            end = self._candidate_end if deadline is None else deadline
            fold_deadline = now + max(end - now, 0.0) / (len(self.folds) - done)
            learner = make()
            if isinstance(learner, Linear):
                learner.fit(self.Z[tr], self.y[tr], self.task, self.k)
                oof[at] = learner.margin(self.Z[va])
            else:
                learner.fit(
                    self.X[tr],
                    self.y[tr],
                    self.task,
                    self.k,
                    self.encoder.categorical,
                    valid=(self.X[va], self.y[va]),
                    deadline=fold_deadline,
                )
                learner.booster = None  # its validation margins are staged
                grown.append((learner, at))
        rounds: list[int] = []
        if grown:
            common = _common_rounds([learner.curve for learner, _ in grown])
            for learner, at in grown:
                assert learner.staged is not None
                learner.rounds = max(1, min(common, int(learner.staged[0][-1])))
                oof[at] = learner.margin_at(learner.rounds)
                rounds.append(learner.rounds)
        return oof, rounds

    def _loss(self, m: np.ndarray, v: np.ndarray | None = None) -> float:
        """The search's loss over the validated rows (or the rows ``v``)."""
        v = self.valid if v is None else v
        y = self.Y[v]
        if self.task == "regression":
            return float(np.sqrt(np.mean((m[v] - y) ** 2)))
        if self.task == "binary":
            if len(np.unique(y)) < 2:
                return _log_loss(self.task, y, m[v])
            auc = skm.roc_auc_score(y, m[v])
            return float(1.0 - auc + 1e-3 * _log_loss(self.task, y, m[v]))
        return _log_loss(self.task, y, m[v])

    # ---- the search -----------------------------------------------------------------
    def run(self) -> TabularModel:
        p = self.plan
        positive_rate = float(np.mean(self.y)) if self.task == "binary" else None
        tried: list[dict[str, Any]] = []
        specs: list[tuple[str, dict[str, Any]]] = [("linear", g) for g in linear_grid()]
        specs += [
            ("lightgbm", g)
            for g in tree_grid(len(self.y), self.X.shape[1], positive_rate, self.options.seed)
        ]
        spent: dict[str, list[float]] = {"linear": [], "lightgbm": []}
        search_budget = 0.8 * self.budget
        for i, (kind, params) in enumerate(specs):
            elapsed = time.monotonic() - self.started
            expected = np.mean(spent[kind]) if spent[kind] else 0.0
            essential = (kind == "linear" and i == 0) or (
                kind == "lightgbm" and not spent["lightgbm"]
            )
            if not essential and elapsed + expected > search_budget:
                continue
            t0 = time.monotonic()
            deadline = None if essential else self.started + search_budget
            # an essential candidate gets what is left of the search, or a tenth of the
            # budget when the ones before it used it all
            self._candidate_end = max(self.started + search_budget, t0 + 0.1 * self.budget)
            found = self._oof(functools.partial(_learner, kind, params), deadline)
            spent[kind].append(time.monotonic() - t0)
            if found is None:
                continue
            oof, rounds = found
            tried.append(
                {
                    "name": f"{kind}#{len(tried) + 1}",
                    "kind": kind,
                    "params": params,
                    "oof": oof,
                    "rounds": rounds,
                    "score": self._loss(oof),
                }
            )
            done = min(85.0, 5.0 + 80.0 * (time.monotonic() - self.started) / search_budget)
            self.tell(done, f"{len(tried)} candidates validated")
        weights = self._blend(tried)
        blend = sum(w * tried[i]["oof"] for i, w in weights.items())
        calibration = self._calibrate(np.asarray(blend))
        calibrated = _apply(self.task, calibration, np.asarray(blend))
        self.tell(88.0, "refitting the chosen model on every row")
        members = []
        for i, w in weights.items():
            cand = tried[i]
            if cand["kind"] == "linear":
                learner: Trees | Linear = Linear(dict(cand["params"])).fit(
                    self.Z, self.y, self.task, self.k
                )
            else:
                # every row is 1 + 1/(k-1) times a fold's training rows: boost that
                # much longer
                per = max(2, self.per)
                grown = int(np.ceil(np.mean(cand["rounds"]) * (1.0 + 1.0 / (per - 1))))
                learner = Trees(dict(cand["params"])).fit(
                    self.X, self.y, self.task, self.k, self.encoder.categorical, rounds=grown
                )
            members.append(Member(learner, float(w)))
        threshold, confusion = self._threshold(calibrated)
        interval = None
        residuals = None
        if self.task == "regression":
            r = (self.Y - calibrated)[self.valid]
            interval = (float(np.quantile(r, 0.1)), float(np.quantile(r, 0.9)))
            pick = np.flatnonzero(self.valid)
            pick = pick[np.linspace(0, len(pick) - 1, min(500, len(pick))).astype(int)]
            residuals = {
                "predicted": calibrated[pick].round(6).tolist(),
                "actual": self.Y[pick].round(6).tolist(),
            }
        means = self.Z.mean(axis=0) if self.Z.size else np.zeros(self.Z.shape[1])
        model = TabularModel(
            task=self.task,
            target=p.target,
            classes=p.classes,
            encoder=self.encoder,
            members=members,
            calibration=calibration,
            threshold=threshold,
            interval=interval,
            info={},
            linear_means=means,
        )
        model.info = self._summary(
            model, tried, weights, calibrated, threshold, confusion, residuals
        )
        self.tell(100.0, "trained")
        return model

    def _blend(self, tried: list[dict[str, Any]]) -> dict[int, float]:
        """The weights of the model kept: the simplest candidate that validates within
        noise of the best, or a blend when blends chosen without each fold's rows do
        better than it on those rows, on average over the folds (the blend's own
        validation score is flattered by weights chosen on the rows it is scored on)."""
        best = int(np.argmin([c["score"] for c in tried]))
        base = self._simplest(tried, best)
        if len(tried) == 1:
            return {base: 1.0}
        counts = self._caruana(tried, self.valid)
        if sum(counts.values()) == 1:
            return {base: 1.0}
        blended = np.zeros_like(tried[base]["oof"])
        for _, at in self.scored:
            rows = self._rows(at)
            # the fold's rows out of every repeat: the other repeats hold their labels too
            held = self._rows(
                np.concatenate([at % len(self.y) + r * len(self.y) for r in range(self.repeats)])
            )
            weights = self._caruana(tried, self.valid & ~held)
            total = sum(weights.values())
            blended[rows] = sum(n / total * tried[i]["oof"][rows] for i, n in weights.items())
        if not self._beats(blended, tried[base]["oof"], margin=0.0):
            return {base: 1.0}
        total = sum(counts.values())
        return {i: n / total for i, n in counts.items()}

    def _caruana(self, tried: list[dict[str, Any]], rows: np.ndarray) -> dict[int, int]:
        """Greedy forward selection with replacement (Caruana et al., 2004) on ``rows``:
        how many times each candidate is picked, starting from the best there."""
        scores = [self._loss(c["oof"], rows) for c in tried]
        best = int(np.argmin(scores))
        counts = {best: 1}
        current = tried[best]["oof"].copy()
        score = scores[best]
        size = 1
        for _ in range(20):
            new_score, pick = min(
                (self._loss((current * size + c["oof"]) / (size + 1), rows), i)
                for i, c in enumerate(tried)
            )
            if new_score >= score - 1e-6:
                break
            current = (current * size + tried[pick]["oof"]) / (size + 1)
            size += 1
            counts[pick] = counts.get(pick, 0) + 1
            score = new_score
        return counts

    def _simplest(self, tried: list[dict[str, Any]], best: int) -> int:
        """The best linear candidate when the best candidate (boosted trees) does not
        beat it beyond noise, else the best: the one-standard-error rule (Breiman et
        al., 1984). On a small or linear table the trees' edge in validation is often
        the luck of a few hundred rows, and the linear model generalises better."""
        linear = [i for i, c in enumerate(tried) if c["kind"] == "linear"]
        if tried[best]["kind"] == "linear" or not linear:
            return best
        simple = min(linear, key=lambda i: tried[i]["score"])
        return best if self._beats(tried[best]["oof"], tried[simple]["oof"]) else simple

    def _beats(self, a: np.ndarray, b: np.ndarray, margin: float = 1.0) -> bool:
        """Whether margins ``a`` validate better than ``b`` by more than ``margin``
        standard errors of their paired difference over the validation folds."""
        diff = np.array(
            [
                self._loss(a, rows) - self._loss(b, rows)
                for rows in (self._rows(at) for _, at in self.scored)
            ]
        )
        if len(diff) < 2:
            return bool(diff.mean() < 0)
        se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        return bool(diff.mean() < -margin * se)

    def _rows(self, va: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(self.Y), dtype=bool)
        mask[va] = True
        return mask

    def _calibrate(self, m: np.ndarray) -> dict[str, float]:
        v = self.valid
        if self.task == "binary":
            from sklearn.linear_model import LogisticRegression

            y = self.Y[v].astype(int)
            if len(np.unique(y)) < 2:
                return {"a": 1.0, "b": 0.0}
            fit = LogisticRegression(C=1e4, max_iter=1000).fit(m[v][:, None], y)
            a = float(fit.coef_[0, 0])
            return {"a": a if a > 0 else 1.0, "b": float(fit.intercept_[0]) if a > 0 else 0.0}
        if self.task == "multiclass":
            best_t, best = 1.0, np.inf
            for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 41)):
                loss = _log_loss(self.task, self.Y[v], m[v] / t)
                if loss < best:
                    best_t, best = float(t), loss
            return {"t": best_t}
        return {}

    def _threshold(self, calibrated: np.ndarray) -> tuple[float | None, dict[str, Any] | None]:
        """The decision threshold (chosen over every repeat's predictions) and the
        confusion matrix at it (over the first repeat's, so that it counts each row
        once)."""
        names = self.plan.classes or []
        if self.task == "regression":
            return None, None
        if self.task == "multiclass":
            v = self.first
            pred = probabilities(self.task, calibrated[v]).argmax(axis=1)
            matrix = skm.confusion_matrix(self.Y[v].astype(int), pred, labels=list(range(self.k)))
            return None, {"labels": names, "matrix": matrix.tolist()}
        threshold = self._binary_threshold(calibrated)
        v = self.first
        pred = (probabilities(self.task, calibrated[v])[:, 1] >= threshold).astype(int)
        matrix = skm.confusion_matrix(self.Y[v].astype(int), pred, labels=[0, 1])
        return threshold, {"labels": names, "matrix": matrix.tolist()}

    def _binary_threshold(self, calibrated: np.ndarray) -> float:
        costs = (self.options.cost_missed, self.options.cost_false_alarm)
        use_cost = any(c is not None for c in costs)
        if self.plan.application != "failure" and not use_cost:
            # a classifier's calibrated probabilities decide by the likelier class; only
            # failure prediction trades misses against false alarms
            return 0.5
        v = self.valid
        y = self.Y[v].astype(int)
        prob = probabilities(self.task, calibrated[v])[:, 1]
        cands = np.unique(np.concatenate([np.quantile(prob, np.linspace(0, 1, 201)), [0.5]]))
        best_t, best = 0.5, -np.inf
        missed = float(costs[0] or 1.0)
        alarm = float(costs[1] or 1.0)
        for t in cands:
            pred = prob >= t
            tp = np.sum(pred & (y == 1))
            fp = np.sum(pred & (y == 0))
            fn = np.sum(~pred & (y == 1))
            value = -(missed * fn + alarm * fp) if use_cost else 2 * tp / max(1, 2 * tp + fp + fn)
            if value > best + 1e-12:
                best_t, best = float(t), value
        return best_t

    def _summary(
        self,
        model: TabularModel,
        tried: list[dict[str, Any]],
        weights: dict[int, float],
        calibrated: np.ndarray,
        threshold: float | None,
        confusion: dict | None,
        residuals: dict | None,
    ) -> dict[str, Any]:
        p = self.plan
        per = self.per
        per_fold: list[dict[str, Any]] = [
            {
                "fold": f"{i // per + 1}.{i % per + 1}" if self.repeats > 1 else i + 1,
                "rows": int(len(at)),
                **_metrics(self.task, self.Y[at], calibrated[at], threshold),
            }
            for i, (_, at) in enumerate(self.scored)
        ]
        keys = sorted({k for f in per_fold for k in f if k not in ("fold", "rows")})
        values = {k: np.array([f.get(k, np.nan) for f in per_fold], dtype=float) for k in keys}
        mean = {k: float(np.nanmean(v)) for k, v in values.items()}
        std = {k: float(np.nanstd(v)) for k, v in values.items()}
        scheme = (
            f"time-ordered: {len(self.folds)} folds, each validated on the rows after its "
            f"training rows by {p.date_column}"
            if self.ordered
            else f"{self.per}-fold "
            f"{'stratified ' if self.task != 'regression' else ''}cross-validation"
            + (f", repeated {self.repeats} times" if self.repeats > 1 else "")
        )
        primary = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[self.task]
        sample = self.rows.iloc[
            np.linspace(0, len(self.rows) - 1, min(1000, len(self.rows))).astype(int)
        ]
        contrib = np.abs(model.explain(sample).contributions).mean(axis=0)
        total = contrib.sum()
        importance = sorted(
            (
                {"feature": f, "importance": float(c / total) if total > 0 else 0.0}
                for f, c in zip(model.features, contrib, strict=True)
            ),
            key=lambda r: -float(r["importance"]),  # type: ignore[arg-type]
        )
        candidates = [
            {
                "name": c["name"],
                "kind": c["kind"],
                "params": c["params"],
                "score": round(float(c["score"]), 6),
                "weight": round(weights.get(i, 0.0), 4),
                "chosen": i in weights,
            }
            for i, c in enumerate(tried)
        ]
        params = {
            "members": [
                {
                    "name": tried[i]["name"],
                    "kind": tried[i]["kind"],
                    "weight": round(w, 4),
                    "params": tried[i]["params"],
                    **(
                        {"rounds": learner.rounds}
                        if isinstance(learner := model.members[j].learner, Trees)
                        else {}
                    ),
                }
                for j, (i, w) in enumerate(weights.items())
            ],
            "calibration": model.calibration,
        }
        return {
            "application": p.application,
            "task": self.task,
            "target": p.target,
            "classes": p.classes,
            "features": p.features,
            "kinds": p.kinds,
            "excluded": p.excluded,
            "date_column": p.date_column,
            "series_columns": p.series_columns,
            "metrics": {
                "validation": scheme,
                "primary": primary,
                "folds": per_fold,
                "mean": mean,
                "std": std,
                "selection": "1 - ROC AUC" if self.task == "binary" else primary,
            },
            "threshold": threshold,
            "confusion": confusion,
            "importance": importance,
            "candidates": candidates,
            "params": params,
            "training_seconds": round(time.monotonic() - self.started, 3),
            "rows": int(len(self.y)),
            "warnings": p.warnings,
            "residuals": residuals,
            "options": self.options.to_dict(),
        }


def _common_rounds(curves: list[np.ndarray]) -> int:
    """One number of rounds for every fold: where the folds' mean validation loss is
    lowest (as ``lgb.cv`` chooses). Scoring each fold at its own best round would let
    the validation rows pick the model they then grade, which flatters boosting against
    the linear model; one number chosen by all the folds together hardly does, and it is
    what the final model, refit on every row, boosts for. A fold stopped early by its
    patience (or the deadline) keeps its last loss for the rounds it did not grow."""
    curves = [c for c in curves if len(c)]
    if not curves:
        return 100
    longest = max(len(c) for c in curves)
    padded = np.vstack([np.pad(c, (0, longest - len(c)), mode="edge") for c in curves])
    return int(np.argmin(padded.mean(axis=0))) + 1


def _learner(kind: str, params: dict[str, Any]) -> Trees | Linear:
    return Linear(dict(params)) if kind == "linear" else Trees(dict(params))


def _apply(task: str, calibration: dict[str, float], m: np.ndarray) -> np.ndarray:
    if task == "binary":
        return calibration["a"] * m + calibration["b"]
    if task == "multiclass":
        return m / calibration["t"]
    return m


def _log_loss(task: str, y: np.ndarray, m: np.ndarray) -> float:
    p = probabilities(task, m)
    p = np.clip(p[np.arange(len(y)), y.astype(int)], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def _metrics(task: str, y: np.ndarray, m: np.ndarray, threshold: float | None) -> dict[str, float]:
    if task == "regression":
        err = m - y
        ss = float(np.sum((y - y.mean()) ** 2))
        return {
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mae": float(np.mean(np.abs(err))),
            "r2": 1.0 - float(np.sum(err**2)) / ss if ss > 0 else 0.0,
        }
    p = probabilities(task, m)
    yi = y.astype(int)
    out = {"log_loss": _log_loss(task, y, m)}
    if task == "binary":
        pred = (p[:, 1] >= (threshold if threshold is not None else 0.5)).astype(int)
        out["accuracy"] = float(np.mean(pred == yi))
        out["f1"] = float(skm.f1_score(yi, pred, zero_division=0))
        out["precision"] = float(skm.precision_score(yi, pred, zero_division=0))
        out["recall"] = float(skm.recall_score(yi, pred, zero_division=0))
        if len(np.unique(yi)) == 2:
            out["roc_auc"] = float(skm.roc_auc_score(yi, p[:, 1]))
            out["pr_auc"] = float(skm.average_precision_score(yi, p[:, 1]))
        return out
    pred = p.argmax(axis=1)
    out["accuracy"] = float(np.mean(pred == yi))
    out["f1"] = float(skm.f1_score(yi, pred, average="macro", zero_division=0))
    present = np.unique(yi)
    if len(present) == p.shape[1]:
        out["roc_auc"] = float(skm.roc_auc_score(yi, p, multi_class="ovr", average="macro"))
    return out
