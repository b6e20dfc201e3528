"""Anodot protocol 2.0 / 3.0 parsing against the seed's rules and error codes."""

import json

import pytest

from augury.metrics.ingest import IngestError, Sample
from augury.metrics.ingest.anodot import (
    SchemaError,
    StreamSchema,
    Watermark,
    parse,
    parse_schema,
    parse_v3,
    parse_watermark,
)

NOW = 1_700_000_000.0

# The seed's 2.0 example, verbatim apart from the timestamp.
SEED_V2 = {
    "properties": {
        "what": "NumberPurchases",
        "Geo": "US",
        "Device": "Mobile",
        "ProductCategory": "Shoes",
        "target_type": "counter",
    },
    "tags": {"ActiveCampaignID": [1234], "AccountManagers": ["JohnDoe", "MaryJane"]},
    "timestamp": 1438761780,
    "value": 58,
}


def body(*items) -> bytes:
    return json.dumps(list(items)).encode()


def sample(**overrides):
    item = {"properties": {"what": "cpu", "host": "web-1"}, "timestamp": NOW - 60, "value": 1.5}
    item.update(overrides)
    return item


def codes(result):
    return [(e.index, e.code) for e in result.errors]


# ------------------------------------------------------------------------- 2.0


def test_v2_seed_example():
    result = parse(body(SEED_V2), now=NOW)
    assert result.errors == []
    assert result.samples == [
        Sample(
            "NumberPurchases",
            {"Device": "Mobile", "Geo": "US", "ProductCategory": "Shoes"},
            1438761780.0,
            58.0,
            "counter",
            {"ActiveCampaignID": ["1234"], "AccountManagers": ["JohnDoe", "MaryJane"]},
        )
    ]


def test_v2_defaults_and_numeric_strings():
    result = parse(body(sample(timestamp="1699999000", value="25.5")), now=NOW)
    [s] = result.samples
    assert (s.what, dict(s.dimensions), s.timestamp, s.value, s.target_type, s.tags) == (
        "cpu",
        {"host": "web-1"},
        1699999000.0,
        25.5,
        "gauge",
        None,
    )


def test_v2_what_only_is_enough():
    result = parse(body(sample(properties={"what": "cpu"})), now=NOW)
    assert result.samples[0].dimensions == {}


LONG = "x" * 51
VERY_LONG = "y" * 151


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ("not an object", "INVALID_SAMPLE"),
        ({"timestamp": 1, "value": 1}, 2004),
        (sample(properties={}), 2004),
        (sample(properties={"what": "cpu", **{f"p{i}": "v" for i in range(20)}}), 2005),
        (sample(properties={"what": "cpu", "": "v"}), 2006),
        (sample(properties={"what": "cpu", LONG: "v"}), 2007),
        (sample(properties={"what": "cpu", "host": ""}), 2008),
        (sample(properties={"what": "cpu", "host": None}), 2008),
        (sample(properties={"what": "cpu", "host": VERY_LONG}), 2009),
        (sample(properties={"what": "cpu", "ho.st": "a"}), 2010),
        (sample(properties={"what": "cpu", "ho st": "a"}), 2010),
        (sample(properties={"what": "cpu", "host": "web.1"}), 2011),
        (sample(properties={"what": "cpu", "host": "web\t1"}), 2011),
        (sample(properties={"host": "a"}), 2012),
        (sample(tags={f"t{i}": ["v"] for i in range(41)}), 2013),
        (sample(tags={"": ["v"]}), 2014),
        (sample(tags={LONG: ["v"]}), 2015),
        (sample(tags={"t": [""]}), 2016),
        (sample(tags={"t": [VERY_LONG]}), 2017),
        (sample(tags={"t.x": ["v"]}), 2018),
        (sample(tags={"t": ["a b"]}), 2019),
        (sample(tags=["not", "a", "dict"]), "INVALID_SAMPLE"),
        ({"properties": {"what": "cpu"}, "value": 1}, 2020),
        (sample(timestamp="yesterday"), 2021),
        (sample(timestamp=True), 2021),
        (sample(timestamp=NOW + 3601), 2022),
        (sample(timestamp=(NOW + 3601) * 1000), 2022),
        (sample(timestamp=-5), 2023),
        ({"properties": {"what": "cpu"}, "timestamp": NOW}, 2024),
        (sample(value=None), 2024),
        (sample(value="1,000"), 2025),
        (sample(value="abc"), 2025),
        (sample(value=False), 2025),
        (sample(value="NaN"), 2026),
        (sample(value="Infinity"), 2026),
        (sample(value=10**400), 2025),
        (sample(timestamp=10**400), 2021),
        (sample(properties={"what": "cpu", "target_type": "rate"}), 2030),
    ],
)
def test_v2_each_documented_error(item, code):
    result = parse(body(item), now=NOW)
    assert result.samples == []
    assert codes(result) == [(0, code)]
    assert result.errors[0].message


def test_v2_limits_are_inclusive():
    props = {"what": "cpu", **{f"p{i}": "v" * 150 for i in range(18)}, "k" * 50: "v"}
    assert len(props) == 20
    items = [
        sample(properties=props),
        sample(tags={f"t{i}": ["v"] for i in range(40)}),
        sample(timestamp=NOW + 3600),
    ]
    result = parse(body(*items), now=NOW)
    assert result.errors == [] and len(result.samples) == 3


def test_v2_json_nan_literal_is_refused():
    raw = b'[{"properties": {"what": "cpu"}, "timestamp": 1699999000, "value": NaN}]'
    assert codes(parse(raw, now=NOW)) == [(0, 2026)]


def test_v2_seed_messages():
    result = parse(body(sample(properties={"host": "a"}), sample(timestamp=NOW + 7200)), now=NOW)
    assert result.errors[0].message.startswith("Property: 'what' is undefined.")
    assert "is in the future" in result.errors[1].message


def test_v2_mixed_batch_keeps_good_samples():
    items = [
        sample(value=1),
        sample(value="NaN"),
        sample(properties={"what": "cpu", "host": "bad.host"}),
        sample(value=4),
        sample(timestamp=NOW + 86_400),
    ]
    result = parse(body(*items), now=NOW)
    assert [s.value for s in result.samples] == [1.0, 4.0]
    assert codes(result) == [(1, 2026), (2, 2011), (4, 2022)]


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"properties": {}}', b"\xff\xfe", b"", b"[" * 100_000]
)
def test_v2_unreadable_body_is_1001(raw):
    with pytest.raises(IngestError) as info:
        parse(raw, now=NOW)
    assert info.value.code == 1001


def test_v2_too_many_samples():
    with pytest.raises(IngestError) as info:
        parse(body(*[sample()] * 11), now=NOW, max_samples=10)
    assert info.value.code == "PAYLOAD_TOO_LARGE"
    assert len(parse(body(*[sample()] * 10), now=NOW, max_samples=10).samples) == 10


def test_v2_now_is_a_parameter():
    item = sample(timestamp=5000)
    assert parse(body(item), now=2000).errors == []
    assert codes(parse(body(item), now=1000)) == [(0, 2022)]


# ------------------------------------------------------------------------ 3.0

# The seed's create-schema example.
SEED_SCHEMA = {
    "version": "1",
    "name": "schema name",
    "dimensions": ["OS", "GEO"],
    "measurements": {
        "m1": {"units": "sec", "aggregation": "average", "countBy": "none"},
        "m2": {"units": "sec", "aggregation": "sum", "countBy": "none"},
    },
    "missingDimPolicy": {"action": "fill", "fill": "dummy_val"},
    "dvpConfig": {"baseRollup": "LONGLONGROLLUP", "maxDVPDurationHours": 168},
}


def schema(**overrides) -> StreamSchema:
    return parse_schema({**SEED_SCHEMA, **overrides})


def test_parse_schema_seed_example():
    s = parse_schema(json.dumps(SEED_SCHEMA).encode())
    assert (s.name, s.version, s.dimensions) == ("schema name", "1", ("OS", "GEO"))
    assert s.measurements["m1"].aggregation == "average"
    assert s.measurements["m1"].target_type == "gauge"
    assert s.measurements["m2"].target_type == "counter"
    assert s.measurements["m1"].units == "sec"
    assert (s.missing_dim_action, s.missing_dim_fill) == ("fill", "dummy_val")
    assert s.extra["dvpConfig"]["baseRollup"] == "LONGLONGROLLUP"


def test_parse_schema_accepts_the_response_wrapper():
    wrapped = {"schema": {**SEED_SCHEMA, "id": "111111-22222-3333-4444"}, "meta": {}}
    assert parse_schema(wrapped).id == "111111-22222-3333-4444"


def test_parse_schema_default_policy_is_ignore():
    definition = {k: v for k, v in SEED_SCHEMA.items() if k != "missingDimPolicy"}
    assert parse_schema(definition).missing_dim_action == "ignore"


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": "n" * 201},
        {"dimensions": "OS"},
        {"dimensions": [f"d{i}" for i in range(31)]},
        {"dimensions": ["OS", "OS"]},
        {"dimensions": ["d" * 31]},
        {"dimensions": ["O.S"]},
        {"dimensions": ["what"]},
        {"measurements": {}},
        {"measurements": {f"m{i}": {"aggregation": "sum"} for i in range(201)}},
        {"measurements": {"m1": {"aggregation": "max"}}},
        {"measurements": {"m1": {"aggregation": "sum", "countBy": "unique"}}},
        {"measurements": {"m.1": {"aggregation": "sum"}}},
        {"missingDimPolicy": {"action": "guess"}},
        {"missingDimPolicy": {"action": "fill", "fill": ""}},
    ],
)
def test_parse_schema_refuses(overrides):
    with pytest.raises(SchemaError):
        parse_schema({**SEED_SCHEMA, **overrides})


@pytest.mark.parametrize("raw", [b"[1]", b"{oops", "null"])
def test_parse_schema_refuses_non_objects(raw):
    with pytest.raises(SchemaError):
        parse_schema(raw)


def point(**overrides):
    item = {
        "schemaId": "s1",
        "timestamp": str(int(NOW) - 60),
        "dimensions": {"OS": "linux", "GEO": "US"},
        "measurements": {"m1": "10", "m2": 25.5},
        "tags": {"AccountManagers": ["JohnDoe", "MaryJane"]},
    }
    item.update(overrides)
    return item


def test_v3_one_sample_per_measurement():
    result = parse_v3(body(point()), now=NOW, schemas={"s1": schema()})
    assert result.errors == []
    ts = NOW - 60
    tags = {"AccountManagers": ["JohnDoe", "MaryJane"]}
    dims = {"GEO": "US", "OS": "linux"}
    assert result.samples == [
        Sample("m1", dims, ts, 10.0, "gauge", tags),
        Sample("m2", dims, ts, 25.5, "counter", tags),
    ]


def test_v3_missing_dimension_policies():
    data = body(point(dimensions={"OS": "linux"}))
    filled = parse_v3(data, now=NOW, schemas={"s1": schema()})
    assert filled.samples[0].dimensions == {"GEO": "dummy_val", "OS": "linux"}
    ignored = parse_v3(data, now=NOW, schemas={"s1": schema(missingDimPolicy={"action": "ignore"})})
    assert ignored.samples[0].dimensions == {"OS": "linux"}
    failed = parse_v3(data, now=NOW, schemas={"s1": schema(missingDimPolicy={"action": "fail"})})
    assert failed.samples == [] and codes(failed) == [(0, "MISSING_DIMENSION")]


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ("nope", "INVALID_SAMPLE"),
        (point(schemaId="unknown"), "SCHEMA_NOT_FOUND"),
        (point(schemaId=None), "SCHEMA_NOT_FOUND"),
        (point(dimensions={"OS": "linux", "Browser": "x"}), "UNKNOWN_DIMENSION"),
        (point(dimensions=["linux"]), "INVALID_SAMPLE"),
        (point(dimensions={"OS": "lin ux", "GEO": "US"}), 2011),
        (point(dimensions={"OS": "l" * 151, "GEO": "US"}), 2009),
        (point(tags={"t": ["a.b"]}), 2019),
        (point(timestamp=None), 2020),
        (point(timestamp="soon"), 2021),
        (point(timestamp=NOW + 4000), 2022),
        (point(timestamp=-1), 2023),
        (point(measurements={}), 2024),
    ],
)
def test_v3_point_errors(item, code):
    result = parse_v3(body(item), now=NOW, schemas={"s1": schema()})
    assert result.samples == []
    assert codes(result) == [(0, code)]


def test_v3_bad_measurement_keeps_the_others():
    items = [
        point(measurements={"m1": "NaN", "m2": 2, "m9": 1}),
        point(measurements={"m1": "x", "m2": None}),
        point(schemaId="gone"),
        point(measurements={"m1": 7}),
    ]
    result = parse_v3(body(*items), now=NOW, schemas={"s1": schema()})
    assert [(s.what, s.value) for s in result.samples] == [("m2", 2.0), ("m1", 7.0)]
    assert codes(result) == [
        (0, 2026),
        (0, "UNKNOWN_MEASUREMENT"),
        (1, 2025),
        (1, 2024),
        (2, "SCHEMA_NOT_FOUND"),
    ]
    assert "m1" in result.errors[0].message


def test_v3_unreadable_body():
    with pytest.raises(IngestError) as info:
        parse_v3(b'{"schemaId": "s1"}', now=NOW, schemas={})
    assert info.value.code == 1001


def test_watermark_seed_example():
    raw = b'{"schemaId": "111111-22222-3333-4444", "watermark": "1438770000"}'
    assert parse_watermark(raw, now=NOW) == Watermark("111111-22222-3333-4444", 1438770000.0)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"[]", 1001),
        (b"{", 1001),
        (b'{"watermark": 1}', "SCHEMA_NOT_FOUND"),
        (b'{"schemaId": "other", "watermark": 1}', "SCHEMA_NOT_FOUND"),
        (b'{"schemaId": "s1"}', 2020),
        (b'{"schemaId": "s1", "watermark": "x"}', 2021),
        (b'{"schemaId": "s1", "watermark": 1800000000}', 2022),
    ],
)
def test_watermark_errors(raw, code):
    with pytest.raises(IngestError) as info:
        parse_watermark(raw, now=NOW, schemas={"s1": schema()})
    assert info.value.code == code
