"""Campaign templates: the built-ins, validation at save time, sandboxed rendering."""

from __future__ import annotations

from datetime import date

import pytest

from revintel.core.errors import InvalidOption
from revintel.retention import templates as T


def _custom(**over):
    data = {
        "name": "renewal_check",
        "label": "Renewal check",
        "description": "Before renewal.",
        "target": "Accounts near their term end.",
        "steps": [
            {
                "day": 1,
                "kind": "email",
                "title": "Email {{ account_name }}",
                "subject": "Your renewal, {{ account_name }}",
                "body": "MRR {{ mrr }}",
            },
            {
                "day": 5,
                "kind": "call",
                "title": "Call",
                "body": "Risk {{ churn_risk }}",
                "condition": "no_response",
            },
        ],
    }
    data.update(over)
    return data


def test_five_builtins_each_a_timeline_whose_scripts_only_name_known_variables() -> None:
    assert set(T.BUILTIN) == {
        "payment_assistance",
        "support_escalation",
        "product_training",
        "win_back",
        "executive_outreach",
    }
    for template in T.BUILTIN.values():
        assert template.builtin and template.description and template.target
        days = [s.day for s in template.steps]
        assert days == sorted(days) and len(days) >= 4
        for i, step in enumerate(template.steps):
            assert step.kind in T.STEP_KINDS
            for text in (step.title, step.subject, step.body):
                assert T.check_script(text, f"{template.name}[{i}]") <= T.ALLOWED
        assert {"email", "call"} <= {s.kind for s in template.steps}


def test_an_unknown_variable_is_refused_at_save_time_naming_it_and_the_allowed_list() -> None:
    data = _custom()
    data["steps"][0]["body"] = "Hi {{ contact_name }}, MRR {{ mrr }}"
    with pytest.raises(T.TemplateError) as err:
        T.validate_template(data)
    message = str(err.value)
    assert "steps[0].body" in message and "'contact_name'" in message
    assert "account_name" in message and "churn_risk" in message  # the allowed list
    assert isinstance(err.value, InvalidOption)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "win_back"}, "built-in"),
        ({"steps": []}, "steps"),
        ({"steps": [{"day": 0, "kind": "email", "title": "x", "subject": "s"}]}, "steps[0].day"),
        ({"steps": [{"day": 1, "kind": "fax", "title": "x"}]}, "steps[0].kind"),
        ({"steps": [{"day": 1, "kind": "email", "title": "x"}]}, "steps[0].subject"),
        ({"steps": [{"day": 1, "kind": "call", "title": "x", "body": "{% if %}"}]}, "syntax"),
        ({"steps": [{"day": 1, "kind": "call", "title": "x", "condition": "maybe"}]}, "condition"),
        ({"colour": "red"}, "unknown field colour"),
    ],
)
def test_bad_templates_are_refused_naming_the_field(change, field) -> None:
    with pytest.raises(T.TemplateError, match=field.replace("[", r"\[").replace("]", r"\]")):
        T.validate_template(_custom(**change))


def test_steps_are_sorted_by_day_and_kept_whole() -> None:
    data = _custom()
    data["steps"].reverse()
    template = T.validate_template(data)
    assert [s.day for s in template.steps] == [1, 5]
    assert template.steps[1].condition == "no_response"


def test_rendering_fills_the_customers_data_and_shows_missing_values_as_missing() -> None:
    row = {
        "customer_id": "C1",
        "name": "Acme Ltd",
        "owner": "sarah",
        "mrr": 12500.0,
        "churn_risk": 0.723,
        "plan": None,
        "clv": float("nan"),
        "tenure_months": 27,
        "health_tier": "At risk",
        "risk_tier": "High",
    }
    step = T.BUILTIN["executive_outreach"].steps[1]
    title, subject, body = T.render_step(step, row, ["Late payments", "Logins per user"])
    assert title == "Executive call to Acme Ltd"
    assert "$12,500" in body and "72%" in body and "2 years 3 months" in body
    assert "Late payments, Logins per user" in body
    assert "CLV (missing)" in body  # NaN
    assert "None" not in body and "nan" not in body
    # plan is None: shown as missing
    email = T.BUILTIN["payment_assistance"].steps[0]
    _, subject, body = T.render_step(email, row, [])
    assert "(missing) plan" in subject and "None" not in subject + body


def test_the_sandbox_refuses_unsafe_attribute_access() -> None:
    from jinja2.exceptions import SecurityError

    env = T.environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ account_name.__class__.__mro__[1].__subclasses__() }}").render(
            account_name="x"
        )


def test_compiled_template_renders_due_dates_and_the_campaign() -> None:
    steps = T.parse_steps(
        [
            {
                "day": 3,
                "kind": "call",
                "title": "{{ campaign_name }}",
                "body": "due {{ due_date }} day {{ step_day }} from {{ start_date }}",
            }
        ]
    )
    compiled = T.CompiledTemplate(steps, campaign_name="Q3 saves", start=date(2026, 1, 1))
    title, subject, body = compiled.render(0, T.customer_variables({}), date(2026, 1, 3))
    assert title == "Q3 saves" and subject == ""
    assert body == "due 2026-01-03 day 3 from 2026-01-01"


def test_the_column_wise_variables_equal_the_row_wise_ones() -> None:
    import polars as pl

    rows = [
        dict(T.SAMPLE_CUSTOMER),
        {
            "customer_id": "C2",
            "name": None,
            "mrr": float("nan"),
            "churn_risk": None,
            "tenure_months": 0,
            "plan": " ",
            "owner": "bob",
        },
    ]
    frame = pl.DataFrame(rows, infer_schema_length=None)
    factors = [["Late payments"], []]
    table = T.variables_table(frame, factors)
    for row, fs, got in zip(rows, factors, table, strict=True):
        full = {**{k: None for k in frame.columns}, **row}
        assert got == T.customer_variables(full, fs)
    assert table[1]["tenure"] == "0 months" and table[1]["plan"] is None
    assert set(T.variables_table(frame, factors, ["mrr"])[0]) == {"mrr"}
