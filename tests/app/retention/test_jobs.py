"""Scheduled jobs: one run at a time through the app store's lock (threads, on SQLite and
PostgreSQL), every run recorded, failures recorded with their error, schedules validated."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from revintel.app.context import AppContext
from revintel.app.retention import jobs
from revintel.core.errors import NotFoundError
from revintel.retention.config import InvalidRetentionConfig, RetentionConfig, validate_config
from revintel.retention.schedule import DEFAULT_SCHEDULES, JOB_NAMES, parse_crontab
from revintel.store.jobs import JobRun, acquire_lock, lock_of, release_lock


def _replace_job(
    monkeypatch: pytest.MonkeyPatch, name: str, run: Any, title: str = "test job"
) -> None:
    monkeypatch.setitem(jobs.JOBS, name, jobs.JobSpec(name, title, title, run))


def test_concurrent_acquires_let_exactly_one_win(store_context: AppContext) -> None:
    engine = store_context.store.engine
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    won: list[str] = []

    def contend(i: int) -> None:
        barrier.wait()
        if acquire_lock(engine, "score_customers", f"holder-{i}", 60):
            won.append(f"holder-{i}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    held = lock_of(engine, "score_customers")
    assert held is not None and held[0] == won[0]
    release_lock(engine, "score_customers", "someone-else")  # not theirs: kept
    assert lock_of(engine, "score_customers") is not None
    release_lock(engine, "score_customers", won[0])
    assert lock_of(engine, "score_customers") is None


def test_a_crashed_holders_lock_expires(store_context: AppContext) -> None:
    engine = store_context.store.engine
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    assert acquire_lock(engine, "retrain", "crashed", 60, now=long_ago)
    assert acquire_lock(engine, "retrain", "new", 60)  # the lease ran out
    assert not acquire_lock(engine, "retrain", "third", 60)  # the new lease holds
    held = lock_of(engine, "retrain")
    assert held is not None and held[0] == "new"


def test_a_second_concurrent_run_is_skipped_and_recorded(
    store_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(_ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
        started.set()
        assert release.wait(30)
        return {"done": 1}

    _replace_job(monkeypatch, "score_customers", slow)
    results: list[jobs.JobRunRecord] = []
    first = threading.Thread(
        target=lambda: results.append(jobs.run_job(store_context.fork(), "score_customers"))
    )
    first.start()
    assert started.wait(30)
    running = jobs.list_jobs(store_context).jobs[0]
    assert running.name == "score_customers" and running.running

    second = jobs.run_job(store_context, "score_customers", trigger="api")
    release.set()
    first.join(30)

    assert second.status == "skipped" and "already running" in (second.error or "")
    assert results[0].status == "success" and results[0].summary == {"done": 1}
    history = jobs.job_history(store_context, "score_customers").runs
    assert [r.status for r in history] == ["skipped", "success"] or [r.status for r in history] == [
        "success",
        "skipped",
    ]
    assert {r.trigger for r in history} == {"manual", "api"}
    assert lock_of(store_context.store.engine, "score_customers") is None  # released


def test_a_failing_job_records_its_error(
    store_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero in the export")

    _replace_job(monkeypatch, "export_high_risk", broken)
    run = jobs.run_job(store_context, "export_high_risk")

    assert run.status == "failed"
    assert run.error == "ZeroDivisionError: division by zero in the export"
    assert run.finished_at is not None and run.duration_seconds is not None
    (last,) = jobs.job_history(store_context, "export_high_risk").runs
    assert (last.run_id, last.status, last.error) == (run.run_id, "failed", run.error)
    listed = {j.name: j for j in jobs.list_jobs(store_context).jobs}
    assert listed["export_high_risk"].last_run is not None
    assert listed["export_high_risk"].last_run.status == "failed"
    # The lock was released: the next run is not skipped.
    assert jobs.run_job(store_context, "export_high_risk").status == "failed"


def test_jobs_that_break_or_are_not_set_up_fail_with_the_reason(
    loaded_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revintel.app.retention import alerts

    def broken(_rt: object) -> None:
        raise RuntimeError("the SMTP relay vanished")

    monkeypatch.setattr(alerts, "evaluate", broken)
    run = jobs.run_job(loaded_context, "evaluate_alerts")
    assert run.status == "failed" and run.error is not None
    assert run.error == "RuntimeError: the SMTP relay vanished"

    exported = jobs.run_job(loaded_context, "export_high_risk")
    assert exported.status == "failed"
    assert "set [retention.jobs] export_folder" in (exported.error or "")
    report = jobs.run_job(loaded_context, "executive_report")
    assert "report_recipients" in (report.error or "")


def test_an_interrupted_run_is_recorded_as_failed(store_context: AppContext) -> None:
    with store_context.store.session() as s:
        s.add(
            JobRun(
                job="retrain",
                trigger="schedule",
                started_at=datetime.now(UTC) - timedelta(hours=1),
                status="running",
                summary={},
                holder="gone:1:abc",
            )
        )
    (run,) = jobs.job_history(store_context, "retrain").runs
    assert run.status == "failed" and (run.error or "").startswith("interrupted")


def test_unknown_jobs_and_bad_schedules_are_named(loaded_context: AppContext) -> None:
    with pytest.raises(NotFoundError, match="No job 'nightly'; expected one of score_customers"):
        jobs.run_job(loaded_context, "nightly")
    with pytest.raises(InvalidRetentionConfig, match="job 'retrain': '0 25 \\* \\* \\*'"):
        validate_config({"jobs": {"schedules": {"retrain": "0 25 * * *"}}})
    with pytest.raises(InvalidRetentionConfig, match="expected five fields 'minute hour day"):
        validate_config({"jobs": {"schedules": {"retrain": "@daily"}}})
    with pytest.raises(InvalidRetentionConfig, match="unknown job 'nightly'"):
        validate_config({"jobs": {"schedules": {"nightly": "0 1 * * *"}}})
    with pytest.raises(InvalidRetentionConfig, match="http"):
        validate_config({"jobs": {"export_webhook_url": "ftp://example.com"}})


def test_schedules_read_as_cron_does() -> None:
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday
    assert set(DEFAULT_SCHEDULES) == set(JOB_NAMES)

    def after(line: str, now: datetime = monday) -> datetime:
        found = parse_crontab(line).get_next_fire_time(None, now)
        assert found is not None
        return found

    assert after("0 8 * * 0") == datetime(2026, 12, 13, 8, 0, tzinfo=UTC)  # 0 is Sunday
    assert after("0 8 * * 7") == datetime(2026, 12, 13, 8, 0, tzinfo=UTC)  # so is 7
    assert after("0 8 * * 1") == datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # next Monday
    assert after("0 8 * * 1-5") == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # Tuesday
    assert after("0 7 1 * *") == datetime(2027, 1, 1, 7, 0, tzinfo=UTC)
    assert after("*/15 * * * *", monday + timedelta(minutes=1)) == monday + timedelta(minutes=15)


def test_the_list_shows_schedules_from_the_settings(
    loaded_context: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = loaded_context.settings.home
    (home / "retention.toml").write_text(
        '[jobs.schedules]\nretrain = "0 4 * * 6"\nweekly_digest = "off"\n', encoding="utf-8"
    )
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    listed = {j.name: j for j in jobs.list_jobs(loaded_context, now=now).jobs}
    assert (listed["retrain"].schedule, listed["retrain"].schedule_source) == (
        "0 4 * * 6",
        "settings",
    )
    assert listed["retrain"].next_run == datetime(2026, 12, 12, 4, 0, tzinfo=UTC)
    assert listed["weekly_digest"].schedule == "off" and listed["weekly_digest"].next_run is None
    assert listed["score_customers"].schedule_source == "default"
    assert listed["score_customers"].next_run == datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    scheduler = jobs.JobScheduler(loaded_context)
    assert "weekly_digest" not in scheduler.schedules and "retrain" in scheduler.schedules


def test_the_scheduler_records_a_scheduled_run(
    store_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = threading.Event()

    def quick(_ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
        ran.set()
        return {"rows": 3}

    _replace_job(monkeypatch, "daily_digest", quick)
    scheduler = jobs.JobScheduler(store_context)
    scheduler.start()
    try:
        assert scheduler.running and set(scheduler.next_runs()) == set(scheduler.schedules)
        scheduler.scheduler.modify_job("daily_digest", next_run_time=datetime.now(UTC))
        assert ran.wait(30)
    finally:
        scheduler.shutdown(wait=True)
    assert not scheduler.running
    (run,) = jobs.job_history(store_context, "daily_digest").runs
    assert (run.trigger, run.status, run.summary) == ("schedule", "success", {"rows": 3})
