"""The segment rule language (revintel/retention/rules.py): grammar, errors, Ibis, builder form."""

from __future__ import annotations

import contextlib

import ibis
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revintel.core.errors import InvalidOption
from revintel.retention import rules as R

KINDS = {
    "customer_id": "text",
    "name": "text",
    "segment": "text",
    "country": "text",
    "industry": "text",
    "mrr": "number",
    "churn_risk": "number",
    "tenure_months": "number",
    "health_tier": "text",
    "has_account_manager": "bool",
    "signup_date": "date",
}
FRAME = pl.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d", "e", "f"],
        "name": ["Acme Labs", "Beta Inc", "Gamma labs", "Delta", None, "Zeta"],
        "segment": ["SMB", "Mid-Market", "Enterprise", "SMB", "SMB", "Enterprise"],
        "country": ["US", "DE", "US", "FR", "US", None],
        "industry": ["Tech", None, "Retail", "Tech", None, "Health"],
        "mrr": [500.0, 12_000.0, 40_000.0, 0.0, 15_000.0, 11_000.0],
        "churn_risk": [0.9, 0.8, 0.1, None, 0.75, 0.2],
        "tenure_months": [3.0, 14.0, 30.0, 1.0, 12.0, 24.0],
        "health_tier": ["Critical", "At Risk", "Healthy", None, "Critical", "Healthy"],
        "has_account_manager": [False, False, True, False, True, False],
        "signup_date": pl.Series(
            ["2023-01-05", "2022-06-01", "2020-03-01", "2024-05-01", "2023-07-01", "2021-01-01"]
        ).str.to_date(),
    }
)


@pytest.fixture(scope="module")
def table() -> ibis.Table:
    con = ibis.duckdb.connect()
    return con.create_table("features", FRAME.to_arrow())


def selected(table: ibis.Table, text: str) -> list[str]:
    expr = R.to_ibis(R.parse(text), table, KINDS)
    out = table.filter(expr).select("customer_id").to_pyarrow()
    return sorted(out.column("customer_id").to_pylist())


@pytest.mark.parametrize(
    ("rule", "ids"),
    [
        ("mrr > 10000 and churn_risk > 0.7 and not has_account_manager", ["b"]),
        ("mrr > 10k and churn_risk > 0.7", ["b", "e"]),
        ("mrr >= 12_000", ["b", "c", "e"]),
        ('segment in ("SMB", "Mid-Market")', ["a", "b", "d", "e"]),
        ('segment not in ("SMB", "Mid-Market")', ["c", "f"]),
        (
            'country = "US" or (tenure_months >= 12 and health_tier != "Critical")',
            ["a", "b", "c", "e", "f"],
        ),
        ("industry is null", ["b", "e"]),
        ("industry is not null", ["a", "c", "d", "f"]),
        ('name contains "Labs"', ["a", "c"]),  # contains ignores case
        ('name not contains "labs"', ["b", "d", "f"]),  # a null name matches no text test
        ('name starts_with "be"', ["b"]),
        ("has_account_manager", ["c", "e"]),
        ("has_account_manager is false", ["a", "b", "d", "f"]),
        ("not has_account_manager", ["a", "b", "d", "f"]),
        # a condition on a missing value is false, and `not` is its complement
        ("churn_risk > 0.5", ["a", "b", "e"]),
        ("not churn_risk > 0.5", ["c", "d", "f"]),
        ("mrr between 11k and 15k", ["b", "e", "f"]),
        ("mrr not between 11k and 15k", ["a", "c", "d"]),
        ('signup_date >= "2023-01-01"', ["a", "d", "e"]),
        ('NOT mrr = 0 AND segment = "SMB"', ["a", "e"]),
        ("mrr > 0.5M", []),
        ("mrr > -1", ["a", "b", "c", "d", "e", "f"]),
        ("mrr > 10000 or mrr < 1000 and has_account_manager", ["b", "c", "e", "f"]),  # and first
        ("(mrr > 10000 or mrr < 1000) and has_account_manager", ["c", "e"]),
    ],
)
def test_rules_select_the_right_rows(table: ibis.Table, rule: str, ids: list[str]) -> None:
    assert selected(table, rule) == ids


def test_the_expression_is_ibis_not_sql_text(table: ibis.Table) -> None:
    expr = R.to_ibis(R.parse('segment = "x\'); drop table features; --"'), table, KINDS)
    assert isinstance(expr, ibis.expr.types.BooleanValue)
    assert table.filter(expr).count().execute() == 0
    assert table.count().execute() == FRAME.height


@pytest.mark.parametrize(
    ("rule", "position", "fragment"),
    [
        (
            "mrr > ",
            7,
            "expected a value (a number, a quoted text, true or false) after '>', got end of rule",
        ),
        ("mrr > 10000 and churn_risk >", 29, "after '>', got end of rule"),
        ("mrr > 10000 and", 16, "got end of rule"),
        ("mrr > 10000 and (churn_risk > 1", 32, "')' to close the '(' at position 17"),
        ("mrr > 10000)", 12, "no '(' is open"),
        ("mrr >> 1", 6, "got '>'"),
        ("segment in SMB", 12, "expected '(' and a list of values after 'in', got 'SMB'"),
        ('segment in ("SMB" "X")', 19, "expected ',' and another value, or ')'"),
        ("mrr $ 5", 5, "unexpected character '$'"),
        ('name = "abc', 8, 'closing "'),
        ("mrr > 10kb", 7, "expected a number"),
        ("mrr > 1__0", 7, "digits around '_'"),
        ("", 1, "empty rule"),
        ("and mrr > 1", 1, "keyword 'and'"),
        ("mrr 5", 5, "expected an operator"),
        ("mrr is 5", 8, "'null', 'true' or 'false'"),
        ("name not = 1", 10, "'in', 'between'"),
    ],
)
def test_syntax_errors_name_the_position(rule: str, position: int, fragment: str) -> None:
    with pytest.raises(R.RuleError) as err:
        R.parse(rule)
    assert err.value.position == position
    assert fragment in str(err.value)
    assert str(err.value).startswith(f"rule: position {position}: ")
    assert isinstance(err.value, InvalidOption)


@pytest.mark.parametrize(
    ("rule", "position", "fragment"),
    [
        (
            "mrr > 1 and churn_rsik > 0.7",
            13,
            "unknown feature 'churn_rsik'; did you mean churn_risk",
        ),
        ("MRR > 1", 1, "did you mean mrr"),
        ('segment > "SMB"', 1, "segment is text: '>' compares numbers and dates"),
        ('mrr > "big"', 1, 'mrr is a number: expected a number, got "big"'),
        ("segment = SMB_x", 11, "expected a value"),  # a bare word is not a value
        ("segment = 5", 1, 'segment is text: expected a quoted text, got 5 (write "5"'),
        ("has_account_manager > 1", 1, "has_account_manager is true/false"),
        ("mrr", 1, "mrr is a number: expected an operator after it"),
        ('mrr contains "1"', 1, "'contains' needs a text feature"),
        ('signup_date > "yesterday"', 1, 'expected a quoted date "YYYY-MM-DD"'),
        ("segment between 1 and 2", 1, "'between' needs a number or a date"),
    ],
)
def test_meaning_errors_name_the_feature_and_position(
    table: ibis.Table, rule: str, position: int, fragment: str
) -> None:
    with pytest.raises(R.RuleError) as err:
        R.to_ibis(R.parse(rule), table, KINDS)
    assert err.value.position == position
    assert fragment in str(err.value)


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(R.RuleError, match="nested levels"):
        R.parse("(" * 500 + "mrr > 1" + ")" * 500)
    with pytest.raises(R.RuleError, match="nested levels"):
        R.parse("not " * 500 + "x")
    with pytest.raises(R.RuleError, match="at most"):
        R.parse("x or " * 5000 + "x")


def test_builder_form_converts_both_ways(table: ibis.Table) -> None:
    spec = {
        "op": "and",
        "conditions": [
            {"feature": "mrr", "operator": ">", "value": 10000},
            {
                "op": "or",
                "conditions": [
                    {"feature": "segment", "operator": "in", "value": ["SMB", "Mid-Market"]},
                    {"feature": "industry", "operator": "is null"},
                ],
            },
            {"feature": "has_account_manager", "operator": "is false"},
        ],
    }
    node = R.from_builder(spec)
    text = R.to_text(node)
    assert text == (
        'mrr > 10000 and (segment in ("SMB", "Mid-Market") or industry is null) '
        "and has_account_manager is false"
    )
    assert R.parse(text) == node
    assert R.from_builder(R.to_builder(node)) == node
    assert sorted(
        table.filter(R.to_ibis(node, table, KINDS)).customer_id.to_pyarrow().to_pylist()
    ) == ["b"]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (
            {"op": "xor", "conditions": [{"feature": "mrr", "operator": ">", "value": 1}]},
            "builder.op",
        ),
        ({"op": "and", "conditions": []}, "builder.conditions: expected a non-empty list"),
        (
            {"conditions": [{"feature": "mrr", "operator": "~", "value": 1}]},
            "builder.conditions[0].operator",
        ),
        (
            {"conditions": [{"feature": "mrr", "operator": "in", "value": 3}]},
            "non-empty list for 'in'",
        ),
        ({"conditions": [{"feature": "1x", "operator": "=", "value": 3}]}, "conditions[0].feature"),
        (
            {"conditions": [{"feature": "mrr", "operator": ">", "value": None}]},
            "conditions[0].value",
        ),
        ([1, 2], "expected an object"),
    ],
)
def test_builder_errors_name_the_path(spec: object, fragment: str) -> None:
    with pytest.raises(R.RuleError) as err:
        R.from_builder(spec)
    assert fragment in str(err.value)


# -- properties ----------------------------------------------------------------------------------
NAMES = st.sampled_from(["mrr", "segment", "churn_risk", "has_account_manager", "x_1", "Name"])
VALUES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(min_value=-(10**12), max_value=10**12).map(float),
    st.text(max_size=12),
    st.booleans(),
)


def _conditions() -> st.SearchStrategy[R.Node]:
    return st.one_of(
        st.builds(R.Compare, NAMES, st.sampled_from(R.COMPARE_OPS), VALUES),
        st.builds(R.In, NAMES, st.lists(VALUES, min_size=1, max_size=4).map(tuple), st.booleans()),
        st.builds(R.Between, NAMES, VALUES, VALUES, st.booleans()),
        st.builds(
            R.TextMatch, NAMES, st.sampled_from(R.TEXT_OPS), st.text(max_size=10), st.booleans()
        ),
        st.builds(R.IsNull, NAMES, st.booleans()),
        st.builds(R.Truth, NAMES, st.booleans()),
    )


TREES = st.recursive(
    _conditions(),
    lambda kids: st.one_of(
        st.builds(R.Not, kids),
        st.lists(kids, min_size=2, max_size=4).map(lambda c: R.And(tuple(c))),
        st.lists(kids, min_size=2, max_size=4).map(lambda c: R.Or(tuple(c))),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_text_round_trip(tree: R.Node) -> None:
    text = R.to_text(tree)
    again = R.parse(text)
    assert again == tree
    assert R.to_text(again) == text
    assert R.from_builder(R.to_builder(tree)) == tree


ALPHABET = st.sampled_from(
    [
        *list("abcmrz_019 .,()<>=!\"'\\-+kM$#\n"),
        "and ",
        "or ",
        "not ",
        " in ",
        " is ",
        "null",
        "between",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(ALPHABET, max_size=40).map("".join)))
def test_garbage_raises_only_rule_errors(text: str) -> None:
    try:
        node = R.parse(text)
    except R.RuleError as err:
        assert err.position is None or 1 <= err.position <= len(text) + 1
        return
    with contextlib.suppress(R.RuleError):
        R.check(node, KINDS)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans()),
        lambda kids: st.one_of(
            st.lists(kids, max_size=3),
            st.dictionaries(
                st.sampled_from(["op", "conditions", "feature", "operator", "value", "negate"]),
                kids,
                max_size=4,
            ),
        ),
        max_leaves=10,
    )
)
def test_builder_garbage_raises_only_rule_errors(spec: object) -> None:
    with contextlib.suppress(R.RuleError):
        R.from_builder(spec)
