"""Campaigns in the app store: the campaign, who is in it (treated or holdout) and its tasks.

Written by the campaigns use case in ``app/retention/`` (the wizard creates a campaign, its
members and its tasks in one transaction: a failed wizard leaves nothing behind) and read by
:mod:`revintel.app.retention.impact` (treated versus holdout). Migration ``0007``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from revintel.store.models import Base


class Campaign(Base):
    """One campaign: its template's steps, its audience, holdout and success criteria."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))  # payment_assistance | win_back | ...
    status: Mapped[str] = mapped_column(String(16))  # active | finished | cancelled
    source: Mapped[str] = mapped_column(String(16), default="app")  # app | imported
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(255))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The audience: a saved segment, a rule, or a list of customers (members hold the result).
    segment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # day, kind, title
    owners: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # mode, people, capacity
    success_criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holdout_share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    cost_per_customer: Mapped[float] = mapped_column(Float, default=0.0)
    as_of_month: Mapped[str | None] = mapped_column(String(7), nullable=True)  # features' month
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class CampaignMember(Base):
    """A customer in a campaign: treated or held out, with their risk when it started."""

    __tablename__ = "campaign_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    group: Mapped[str] = mapped_column(String(8))  # treated | holdout
    risk_tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    risk_at_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    mrr_at_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    customer_name: Mapped[str | None] = mapped_column(String(255), nullable=True)


class CampaignTask(Base):
    """One step of a campaign for one treated customer: due date, owner, status, outcome."""

    __tablename__ = "campaign_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    step: Mapped[int] = mapped_column(Integer)  # index into Campaign.steps
    kind: Mapped[str] = mapped_column(String(16))  # email | call | offer | escalate | meeting
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="todo")  # todo|contacted|responded|done
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    script: Mapped[str | None] = mapped_column(Text, nullable=True)  # rendered email / call script
    subject: Mapped[str | None] = mapped_column(String(300), nullable=True)  # rendered subject
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(255), nullable=True)


class CampaignTemplate(Base):
    """A custom campaign template (the five built-ins live in :mod:`revintel.retention.templates`):
    its steps with their Jinja2 scripts, checked when saved."""

    __tablename__ = "campaign_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    target: Mapped[str | None] = mapped_column(Text, nullable=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    based_on: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
