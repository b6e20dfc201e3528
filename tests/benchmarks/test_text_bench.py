"""bench-text's data handling and report: folds, few-shot samples, SemEval's XML,
the calibration error, and the docs section written from a result."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from benchmarks.text import data
from benchmarks.text.run import doc_section, ece, summary_lines

LABELS = ["a"] * 10 + ["b"] * 7 + ["c"] * 3


def test_stratified_folds_cover_every_index_once_and_spread_each_class():
    folds = data.stratified_folds(LABELS, 5)
    joined = np.concatenate(folds)
    assert sorted(joined.tolist()) == list(range(len(LABELS)))
    for fold in folds:
        counts = Counter(LABELS[i] for i in fold)
        assert counts["a"] == 2 and counts["b"] in (1, 2)
    assert [f.tolist() for f in data.stratified_folds(LABELS, 5)] == [f.tolist() for f in folds]


def test_few_shot_takes_n_of_each_class_and_scores_the_rest():
    chosen, rest = data.few_shot(LABELS, 3, seed=1)
    assert Counter(LABELS[i] for i in chosen) == {"a": 3, "b": 3, "c": 3}
    assert set(chosen.tolist()).isdisjoint(rest.tolist())
    assert len(chosen) + len(rest) == len(LABELS)
    assert data.few_shot(LABELS, 3, seed=1)[0].tolist() == chosen.tolist()  # seeded


def test_semeval_records_keep_each_category_once_with_augurys_polarity_names(tmp_path):
    xml = tmp_path / "s.xml"
    xml.write_text(
        '<?xml version="1.0"?><sentences>'
        '<sentence id="1"><text>Great food, rude staff.</text><aspectCategories>'
        '<aspectCategory category="food" polarity="positive"/>'
        '<aspectCategory category="service" polarity="negative"/>'
        '<aspectCategory category="food" polarity="positive"/>'
        "</aspectCategories></sentence>"
        '<sentence id="2"><text>It was ok.</text><aspectCategories>'
        '<aspectCategory category="anecdotes/miscellaneous" polarity="conflict"/>'
        "</aspectCategories></sentence></sentences>"
    )
    assert data.semeval(xml) == [
        {
            "text": "Great food, rude staff.",
            "aspects": [
                {"category": "food", "polarity": "POS"},
                {"category": "service", "polarity": "NEG"},
            ],
        },
        {"text": "It was ok.", "aspects": [{"category": "anecdotes/miscellaneous",
                                            "polarity": "CONFLICT"}]},
    ]  # fmt: skip


def test_banking_reads_texts_with_newlines(tmp_path):
    csv_file = tmp_path / "b.csv"
    csv_file.write_text('text,category\n"two\nlines",card_arrival\nplain,exchange_rate\n')
    assert data.banking(csv_file) == (["two\nlines", "plain"], ["card_arrival", "exchange_rate"])


def test_ece_is_the_weighted_gap_between_confidence_and_accuracy():
    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    right = np.array([True, True, True, False])
    assert ece(confidence, right) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    assert ece(np.array([1.0, 1.0]), np.array([True, True])) == 0.0


def _result() -> dict:
    side = {"accuracy": 0.9, "fold_accuracy": [0.9], "ece": 0.02, "mean_confidence": 0.9}
    cost = {"train_texts": 10003, "train_wall_s": 12.0, "train_cpu_s": 20.0,
            "predict_texts": 3000, "texts_per_cpu_s": 7000, "texts_per_wall_s": 8000,
            "rss_before_mb": 250.0, "peak_rss_mb": 1100.0}  # fmt: skip
    absa = {"category_f1": 0.82, "category_precision": 0.8, "category_recall": 0.84,
            "polarity_accuracy": 0.72, "pairs": 3711}  # fmt: skip
    return {
        "banking_full": {
            "folds": 5,
            "used": 5,
            "n": 10003,
            "scored": 10003,
            "augury": side,
            "peer": {**side, "accuracy": 0.88},
        },  # fmt: skip
        "banking_few_shot": {
            "per_class": 10,
            "seeds": [0, 1, 2],
            "augury": {"accuracy": 0.78, "std": 0.007, "per_seed": []},
            "peer": {"accuracy": 0.72, "std": 0.007, "per_seed": []},
        },  # fmt: skip
        "banking_zero_shot": {"n": 10003, "accuracy": 0.54, "ece": 0.01, "seconds": 0.4},
        "semeval": {
            "folds": 5,
            "sentences": 3041,
            "augury": absa,
            "peer": {**absa, "category_f1": 0.78},
        },  # fmt: skip
        "cost": {"augury": cost, "peer": {**cost, "train_wall_s": 130.0}},
        "machine": {"cpu_model": "CPU", "cpus": 2, "python": "3.11", "load_avg_1m": 1.0},
        "date": "2026-12-06 17:00 UTC",
        "engine_commit": "abc1234",
        "wall_s": 300.0,
    }


def test_the_docs_section_states_figures_targets_and_anchors():
    section = doc_section(_result())
    assert section.startswith("## Text\n")
    assert "| BANKING77 accuracy, full | stratified 5-fold CV of train" in section
    assert "| 90.0 % | 88.0 % | fine-tuned BERT-large 93.7 % |" in section
    assert "within 120 s on this 2-core machine: **met** (12.0 s)" in section
    assert "**met** (7,000 per CPU-second)" in section
    assert "2.0 points above the peer with all the data" in section
    assert "3.7 points below fine-tuned BERT-large" in section
    result = _result()
    result["cost"]["augury"]["train_wall_s"] = 121.0
    result["banking_full"]["used"] = 1
    section = doc_section(result)
    assert "**not met** (121.0 s)" in section and "stratified 80/20 split" in section
    assert summary_lines(_result())[0].startswith("BANKING77 full (stratified 5-fold CV)")
