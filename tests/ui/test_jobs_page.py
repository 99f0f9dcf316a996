"""The Jobs page through AppTest: every job with its schedule, a run-now button that records the
run (here a failure with its reason: the small company has no churn model), and the history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.app.retention import jobs

Dashboard = Callable[[Path], AppTest]


def test_jobs_page_lists_runs_and_records(dashboard: Dashboard, loaded_context: AppContext) -> None:
    home = loaded_context.settings.home
    at = dashboard(home).run()
    at.switch_page("views/jobs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(m.value for m in at.markdown)
    for name in jobs.JOBS:
        assert f"`{name}`" in shown
    assert "`0 2 * * *`" in shown  # score_customers' default schedule
    assert any("No job has run yet" in i.value for i in at.info)

    at.button(key="job_run_score_customers").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (run,) = jobs.job_history(loaded_context, "score_customers").runs
    assert run.trigger == "manual" and run.status == "failed" and run.error
    assert at.dataframe[0].value["job"].tolist() == ["score_customers"]
    assert at.dataframe[0].value["status"].tolist() == ["failed"]
