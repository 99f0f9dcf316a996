"""``revintel campaigns results|impact|recommendations``: measured impact of campaigns
(docs/retention.md, Measured impact). Registers on :data:`revintel.cli.campaigns.campaigns_app`."""

from __future__ import annotations

from revintel.cli.campaigns import campaigns_app  # noqa: F401  (the group these commands join)
