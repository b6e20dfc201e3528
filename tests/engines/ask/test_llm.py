"""The LLM seam of Ask: the prompt a model gets, and its reply checked into a plan."""

from __future__ import annotations

import json

import pytest

from augury.engines import ask as engine
from augury.engines.ask import llm
from augury.engines.ask.parser import AskError

PENGUINS = (
    "species,island,bill_length_mm,body_mass_g,sex,year\n"
    "Adelie,Torgersen,39.1,3750,male,2007\n"
    "Adelie,Biscoe,38.6,3550,female,2008\n"
    "Gentoo,Biscoe,46.1,4500,female,2007\n"
    "Gentoo,Biscoe,50.0,5700,male,2009\n"
    "Chinstrap,Dream,46.5,3500,female,2008\n"
)


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm") / "penguins.csv"
    path.write_text(PENGUINS)
    table = engine.load_table(path)
    return table, engine.context_of(table)


def reply(plan: dict) -> str:
    return json.dumps(plan)


def test_the_prompt_states_the_task_the_shape_and_the_columns(penguins):
    _table, ctx = penguins
    system, user = llm.messages_for("average body mass by species", ctx)
    assert system["role"] == "system" and user == {
        "role": "user",
        "content": "average body mass by species",
    }
    text = system["content"]
    assert "ONE JSON object" in text and "nothing else" in text
    for word in ("measures", "group_by", "bucket", "filters", "order", "limit", "select"):
        assert f'"{word}"' in text
    for fn in ("count", "sum", "mean", "median", "distinct", "std", "corr"):
        assert fn in text
    for op in ("eq", "between", "not_in", "is_null", "starts_with"):
        assert op in text
    assert "hour, day, week, month, quarter, year" in text
    assert '- "species" (string) values: ["Adelie", "Gentoo", "Chinstrap"]' in text
    assert '- "body_mass_g" (integer) from 3500 to 5700' in text
    assert '"penguins" (5 rows)' in text
    assert "average body mass" not in text  # the question travels apart, as the user's


def test_a_500_column_prompt_is_bounded_and_names_every_column():
    columns = []
    for i in range(500):
        values = [f"value {i}-{k} of a fairly long category name" for k in range(60)]
        columns.append(llm._sample(f"measurement_column_{i:03d}", "category", values=values))
    ctx = engine.TableContext("wide", ["wide"], 1000, columns, 1000)
    system = llm.messages_for("how many rows?", ctx)[0]["content"]
    assert len(system) < llm.COLUMN_BUDGET + llm.VALUE_BUDGET + 6_000
    assert all(f'"measurement_column_{i:03d}" (category)' in system for i in range(500))
    first = next(line for line in system.splitlines() if "measurement_column_000" in line)
    assert first.count("fairly long") == llm.MAX_VALUES and first.endswith("and 30 more")
    assert "values of some categorical columns were left out" in system


def test_columns_past_the_budget_are_counted_not_listed():
    columns = [llm._sample("c" * 150 + str(i), "integer", low=0, high=1) for i in range(400)]
    ctx = engine.TableContext("huge", ["huge"], 10, columns, 10)
    system = llm.messages_for("q", ctx)[0]["content"]
    assert "more columns not listed)" in system
    assert len(system) < llm.COLUMN_BUDGET + 6_000


@pytest.mark.parametrize(
    "text",
    [
        '{"measures": [{"fn": "mean", "column": "body_mass_g"}], "group_by": ["species"]}',
        'Here is the plan:\n```json\n{"measures": [{"fn": "mean", "column": "body_mass_g"}],'
        ' "group_by": ["species"]}\n```\nHope it helps {not json}.',
        '{"plan": {"measures": [{"fn": "mean", "column": "body_mass_g"}], '
        '"group_by": ["species"]}}',
        'The {braces} first: {"measures": [{"fn": "mean", "column": "body_mass_g"}], '
        '"group_by": ["species"]} {"limit": 2}',
    ],
    ids=["bare", "fenced", "wrapped", "after-prose"],
)
def test_the_first_json_object_of_a_reply_is_the_plan(penguins, text):
    _table, ctx = penguins
    plan = llm.plan_from_reply(text, ctx)
    assert engine.describe(plan) == "mean of body_mass_g by species"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Adelie penguins are the heaviest.", "holds no JSON object"),
        ('["species"]', "holds no JSON object"),
        ('{"error": "the table has no prices"}', "the model declined: the table has no prices"),
        ('{"measures": [{"fn": "drop_table", "column": "species"}]}', "fn is one of"),
        ('{"sql": "SELECT * FROM penguins; DROP TABLE penguins"}', "Unknown plan fields"),
        ('{"limit": 100000000}', "limit is a whole number"),
        ("{" * 200_000, "holds no JSON object"),
    ],
    ids=["prose", "array", "declined", "bad-fn", "sql", "limit", "huge"],
)
def test_a_reply_that_is_not_a_plan_is_unsupported(penguins, text, says):
    _table, ctx = penguins
    with pytest.raises(AskError) as caught:
        llm.plan_from_reply(text, ctx)
    assert caught.value.details["reason"] == "unsupported"
    assert caught.value.message.startswith("The model's answer was not a plan: ")
    assert says in caught.value.message


@pytest.mark.parametrize(
    ("plan", "column", "candidate"),
    [
        ({"measures": [{"fn": "mean", "column": "body_mass"}]}, "body_mass", "body_mass_g"),
        ({"group_by": ["specie"], "measures": [{"fn": "count"}]}, "specie", "species"),
        ({"filters": [{"column": "islands", "op": "eq", "value": "Dream"}]}, "islands", "island"),
        ({"select": ["sex", "yeer"]}, "yeer", "year"),
        (
            {"measures": [{"fn": "corr", "column": "bill_length_mm", "other": "mass"}]},
            "mass",
            None,
        ),
        (
            {"measures": [{"fn": "count"}], "group_by": ["species"], "order": [["n", "desc"]]},
            "n",
            "count",
        ),
    ],
    ids=["measure", "group", "filter", "select", "other", "order"],
)
def test_a_plan_naming_what_the_data_lacks_names_candidates(penguins, plan, column, candidate):
    _table, ctx = penguins
    with pytest.raises(AskError) as caught:
        llm.plan_from_reply(reply(plan), ctx)
    details = caught.value.details
    assert details["reason"] == "no_column" and details["column"] == column
    assert details["candidates"]
    if candidate is not None:
        assert candidate in details["candidates"]


def test_confidence_says_how_far_the_data_backs_the_plan(penguins):
    _table, ctx = penguins
    clean = llm.plan_from_reply(
        reply(
            {
                "measures": [{"fn": "mean", "column": "body_mass_g"}],
                "filters": [{"column": "island", "op": "eq", "value": "biscoe"}],
            }
        ),
        ctx,
    )
    assert llm.confidence_of(clean, ctx) == (llm.VALIDATED, [])
    doubtful = llm.plan_from_reply(
        reply(
            {
                "measures": [{"fn": "sum", "column": "species"}],
                "bucket": {"column": "island", "unit": "month"},
                "filters": [{"column": "island", "op": "in", "value": ["Biscoe", "Atlantis"]}],
            }
        ),
        ctx,
    )
    confidence, notes = llm.confidence_of(doubtful, ctx)
    assert confidence == round(llm.VALIDATED * 0.7**3, 3)
    assert notes == [
        "sum of species, which is not a number column",
        "island is cut into months but is not a date",
        "'Atlantis' is not a value seen in island",
    ]


def test_a_models_plan_runs_through_the_tables_engine_with_values_bound(penguins):
    table, ctx = penguins
    hostile = "Biscoe'; DROP TABLE dataset; --"
    kept = {"column": "island", "op": "eq", "value": hostile}
    plan = llm.plan_from_reply(reply({"select": ["species"], "filters": [kept]}), ctx)
    answer = engine.ask("which penguins live on Biscoe?", table, plan=plan, engine="provider:x")
    assert answer.rows == [] and answer.engine == "provider:x"
    top = llm.plan_from_reply(
        reply(
            {
                "measures": [{"fn": "max", "column": "body_mass_g"}],
                "group_by": ["species"],
                "order": [["max_body_mass_g", "desc"]],
                "limit": 1,
            }
        ),
        ctx,
    )
    assert engine.ask("heaviest species", table, plan=top).rows == [["Gentoo", 5700]]


def test_the_sample_table_answers_the_sample_question():
    ctx = llm.sample_context()
    system = llm.messages_for(llm.SAMPLE_QUESTION, ctx)[0]["content"]
    assert '"sales" (120 rows)' in system and '"units" (integer) from 1 to 40' in system
    plan = llm.plan_from_reply(
        reply({"measures": [{"fn": "sum", "column": "units"}], "group_by": ["region"]}), ctx
    )
    assert llm.confidence_of(plan, ctx)[0] == llm.VALIDATED
