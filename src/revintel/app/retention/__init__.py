"""Retention operations: use cases that combine churn, health, CLV and metrics with the state kept
in the app store (docs/retention.md).

* ``features.py``: one row per customer with every attribute and computed feature a segment rule,
  a campaign, an alert or a report reads (as of the last complete month);
* ``notes.py``: notes and logged actions on accounts;
* ``segments.py``: preview, save, compare, discover and track segments;
* ``campaigns.py``: templates, the wizard (holdout, owners, tasks, scripts), task updates;
* ``impact.py``: measured impact of campaigns (treated versus holdout), intervention impact and
  recommendations;
* ``risk_trends.py``: portfolio risk over months, expected churn next quarter, risers, drift;
* ``alerts.py``: alert rules, evaluation, delivery, inbox and digests;
* ``jobs.py``: the scheduled jobs and their one-at-a-time runs;
* ``executive.py``: the executive report (HTML, PDF, PowerPoint);
* ``data_quality.py``: missing values, freshness, outliers and feature correlations.
"""
