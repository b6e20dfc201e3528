"""The token map and drivers of a grouped anomaly (engines/detect/explain.py), on
hand-built anomalies whose answer is known."""

from __future__ import annotations

import random

import pytest

from augury.engines.detect.explain import Member, explain


def by_token(e):
    return {t.token: t for t in e.tokens}


def fleet(hosts=10, endpoints=("a", "b", "c", "d")):
    """40 metrics: 10 hosts x 4 endpoints; hosts 1-5 in eu, 6-10 in us."""
    return [
        {"host": f"web-{h}", "region": "eu" if h <= 5 else "us", "endpoint": ep}
        for h in range(1, hosts + 1)
        for ep in endpoints
    ]


def test_a_single_culprit_host_is_named_not_the_broader_region():
    population = fleet()
    members = [Member(d, delta=10.0, expected=100.0) for d in population if d["host"] == "web-2"]
    members += [
        Member({"host": "web-3", "region": "eu", "endpoint": "a"}, delta=0.5, expected=100.0),
        Member({"host": "web-7", "region": "us", "endpoint": "a"}, delta=1.0, expected=100.0),
        Member({"host": "web-9", "region": "us", "endpoint": "b"}, delta=-1.0, expected=100.0),
    ]
    e = explain(members, population)
    # region=eu has more of the deviation (40.5 of 42.5) than host=web-2 (40 of 42.5),
    # but host=web-2 singles out 4 metrics where region=eu singles out 20.
    assert e.drivers == (("host", "web-2"),)
    assert not e.spread
    assert e.share == pytest.approx(40 / 42.5)
    assert (e.matched, e.matched_total, e.metrics, e.population) == (4, 4, 7, 40)
    assert e.sentence == "host=web-2 accounts for 94% of the deviation (4 of 40 metrics)."
    t = by_token(e)
    assert [x.token for x in e.tokens[:2]] == ["region=eu", "host=web-2"]
    assert (t["host=web-2"].anomalous, t["host=web-2"].total) == (4, 4)
    assert t["host=web-2"].lift == pytest.approx((4 / 7) / (4 / 40))
    assert (t["region=eu"].anomalous, t["region=eu"].total) == (5, 20)
    assert t["region=eu"].lift == pytest.approx((5 / 7) / (20 / 40))
    assert t["endpoint=a"].share == pytest.approx(11.5 / 42.5)
    assert t["region=us"].share == pytest.approx(2 / 42.5)  # |-1| counts as 1
    assert t["host=web-2"].expected_share == pytest.approx(4 / 7)


def test_two_dimensions_that_only_together_single_out_the_culprits():
    population = [
        {"region": r, "service": s, "host": h}
        for r in ("eu", "us")
        for s in ("api", "web", "db")
        for h in ("h1", "h2")
    ]
    members = [
        Member({"region": "eu", "service": "api", "host": "h1"}, 10.0),
        Member({"region": "eu", "service": "api", "host": "h2"}, 10.0),
        Member({"region": "us", "service": "api", "host": "h1"}, 0.6),
        Member({"region": "eu", "service": "db", "host": "h2"}, 1.0),
    ]
    e = explain(members, population)
    # service=api (4 metrics) narrows more than region=eu (6); together: 2 metrics.
    assert e.drivers == (("service", "api"), ("region", "eu"))
    assert e.share == pytest.approx(20 / 21.6)
    assert (e.matched, e.matched_total) == (2, 2)
    assert e.sentence == (
        "service=api and region=eu account for 92% of the deviation (2 of 12 metrics)."
    )


def test_a_token_is_not_added_once_the_share_would_drop_below_80_percent():
    population = [{"host": f"h{i}", "disk": d} for i in range(4) for d in ("sda", "sdb")]
    members = [
        Member({"host": "h0", "disk": "sda"}, 5.0),
        Member({"host": "h0", "disk": "sdb"}, 4.0),
        Member({"host": "h3", "disk": "sda"}, 1.0),
    ]
    e = explain(members, population)
    # host=h0 has 90%; host=h0 and disk=sda would narrow to 1 metric but keep only 50%.
    assert e.drivers == (("host", "h0"),)
    assert e.sentence == "host=h0 accounts for 90% of the deviation (2 of 8 metrics)."


def test_a_broad_anomaly_with_no_culprit_is_spread():
    population = [{"host": f"web-{i:02d}", "dc": "main"} for i in range(40)]
    members = [Member(population[i], delta=1.0 + i / 100) for i in range(0, 40, 2)]
    e = explain(members, population)
    assert e.spread and e.drivers == () and e.share is None
    assert (e.matched, e.metrics, e.population) == (20, 20, 40)
    # dc=main has all of the deviation, but every metric of the measure carries it.
    assert e.tokens[0].token == "dc=main" and e.tokens[0].lift == pytest.approx(1.0)
    assert e.tokens[1].token == "host=web-38"  # the largest delta, 1.38
    assert e.sentence == (
        "Spread across 20 metrics of 40: no dimension values single out the metrics behind "
        "80% of the deviation (dc=main has 100% but every metric carries it)."
    )


def test_every_metric_of_the_measure_anomalous_is_spread():
    population = [{"host": h} for h in ("a", "b", "c")]
    members = [Member(d, 2.0) for d in population]
    e = explain(members, population)
    assert e.spread
    assert e.sentence.startswith("Spread across all 3 metrics of the measure: ")
    assert e.sentence.endswith("(the largest, host=a, has 33%).")


def test_ties_are_broken_by_key_then_value_whatever_the_input_order():
    population = [{"host": f"web-{i}", "instance": f"i-{i}", "az": "1a"} for i in range(1, 9)]
    members = [
        Member(population[1], 9.0),  # web-2 / i-2: both tokens single it out
        Member(population[4], 0.5),
        Member(population[6], 0.5),
    ]
    e = explain(members, population)
    assert e.drivers == (("host", "web-2"),)  # host < instance; instance adds nothing
    assert e.sentence == "host=web-2 accounts for 90% of the deviation (1 of 8 metrics)."
    assert [t.token for t in e.tokens] == [
        "az=1a", "host=web-2", "instance=i-2", "host=web-5", "host=web-7",
        "instance=i-5", "instance=i-7",
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(5):
        m, p = members[:], [dict(reversed(list(d.items()))) for d in population]
        rng.shuffle(m)
        rng.shuffle(p)
        assert explain(m, p) == e


def test_two_equal_culprits_neither_reaching_80_percent():
    members = [Member({"host": "b"}, 5.0), Member({"host": "a"}, -5.0)]
    e = explain(members, [{"host": h} for h in "abcd"])
    assert e.spread
    assert [t.token for t in e.tokens] == ["host=a", "host=b"]
    assert e.sentence == (
        "Spread across 2 metrics of 4: no dimension values single out the metrics behind "
        "80% of the deviation (the largest, host=a, has 50%)."
    )


def test_metrics_without_dimensions():
    # A dimensionless metric's deviation counts in the total but no token carries it.
    members = [Member({}, 10.0), Member({"host": "a"}, 1.0)]
    e = explain(members, [{}, {"host": "a"}, {"host": "b"}])
    assert e.spread
    assert by_token(e)["host=a"].share == pytest.approx(1 / 11)
    # ... and a culprit among dimensioned metrics still stands out.
    e = explain(
        [Member({}, 1.0), Member({"host": "web-2"}, 9.0)],
        [{}, *({"host": f"web-{i}"} for i in range(1, 5))],
    )
    assert e.sentence == "host=web-2 accounts for 90% of the deviation (1 of 5 metrics)."
    # Nothing to break down at all.
    e = explain([Member({}, 3.0), Member({}, 1.0)], [{}])
    assert e.spread and e.tokens == [] and e.token_count == 0
    assert e.sentence == "Its metrics have no dimensions to break the deviation down by."


def test_a_lone_metric_against_its_measure_and_alone():
    population = [{"host": f"h{i}"} for i in range(5)]
    e = explain([Member({"host": "h3"}, -2.0)], population)
    assert e.sentence == "host=h3 accounts for 100% of the deviation (1 of 5 metrics)."
    e = explain([Member({"host": "h3"}, -2.0)], [{"host": "h3"}])
    assert e.spread
    assert e.sentence == (
        "The whole deviation is its only metric's: no other metric to compare with."
    )


def test_without_the_population_drivers_are_judged_among_the_anomalous_metrics():
    members = [Member({"host": "web-2", "path": p}, 5.0) for p in ("a", "b", "c")]
    members.append(Member({"host": "web-1", "path": "a"}, 1.0))
    e = explain(members)
    assert e.drivers == (("host", "web-2"),)
    assert e.sentence == "host=web-2 accounts for 93% of the deviation (3 of 4 metrics)."
    assert e.population is None and e.matched_total is None
    assert all(t.total is None and t.lift is None for t in e.tokens)


def test_no_deviation_at_all_weighs_every_metric_the_same():
    members = [Member({"host": "a"}, 0.0)]
    members += [Member({"host": "b", "i": str(i)}, 0.0) for i in range(4)]
    e = explain(members, [m.dimensions for m in members] + [{"host": "c"}])
    assert by_token(e)["host=b"].share == pytest.approx(0.8)
    assert e.drivers == (("host", "b"),)


def test_the_token_map_keeps_the_strongest_and_counts_them_all():
    members = [Member({"id": str(i)}, float(i)) for i in range(1, 101)]
    e = explain(members, max_tokens=5)
    assert [t.token for t in e.tokens] == ["id=100", "id=99", "id=98", "id=97", "id=96"]
    assert e.token_count == 100 and e.spread


def test_no_members():
    e = explain([], [{"host": "a"}])
    assert e.spread and e.tokens == [] and e.sentence == "No metrics to explain."


def test_cover_must_be_a_share():
    with pytest.raises(ValueError):
        explain([Member({"a": "b"}, 1.0)], cover=0)
