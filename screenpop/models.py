"""The directory's tables: citizens and their numbers, cases, calls and notes, users, audit.

A phone number is stored in E.164 and indexed, not unique: a household shares a landline.
An interaction is one call (keyed by Asterisk's Linkedid, ``call_id``) with what the menu
recorded, the agents it reached and their notes. Changes go through Alembic migrations
(``alembic/versions``); these classes and the migrations must agree (a test checks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cti.db import Base
from screenpop.case_keys import case_key


def utcnow() -> datetime:
    return datetime.now(UTC)


def _case_key_default(context: Any) -> str | None:
    return case_key(str(context.get_current_parameters().get("reference") or ""))


class Citizen(Base):
    __tablename__ = "citizens"
    # PostgreSQL only uses a b-tree for LIKE 'prefix%' with the pattern operator class.
    __table_args__ = (
        Index(
            "ix_citizens_search_name",
            "search_name",
            postgresql_ops={"search_name": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    civility: Mapped[str | None] = mapped_column(String(16))
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str | None] = mapped_column(String(120))
    # Lower-case, accents removed: what a search by name compares with.
    search_name: Mapped[str] = mapped_column(String(250))
    address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    phones: Mapped[list[PhoneNumber]] = relationship(back_populates="citizen")


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("citizen_id", "e164"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str | None] = mapped_column(String(40))

    citizen: Mapped[Citizen] = relationship(back_populates="phones")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_citizen_status", "citizen_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    # The reference's digits, what a caller keys in the voice menu (screenpop.case_keys);
    # filled from the reference on every insert that does not give it.
    dtmf_key: Mapped[str | None] = mapped_column(
        String(40), unique=True, index=True, default=_case_key_default
    )
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30))
    owner_agent: Mapped[str | None] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseStatusChange(Base):
    __tablename__ = "case_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str | None] = mapped_column(String(80))


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    caller_raw: Mapped[str | None] = mapped_column(String(80))
    caller_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    caller_withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), index=True
    )
    did: Mapped[str | None] = mapped_column(String(40))
    ivr_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    service: Mapped[str | None] = mapped_column(String(40))
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    agents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Of those, who answered it, in order (several: it was transferred); NULL before 0005.
    answered_by: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(20), default="in_progress")
    disposition: Mapped[str | None] = mapped_column(String(120))

    notes: Mapped[list[InteractionNote]] = relationship(
        back_populates="interaction", order_by="InteractionNote.id"
    )


class InteractionNote(Base):
    __tablename__ = "interaction_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    agent: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    interaction: Mapped[Interaction] = relationship(back_populates="notes")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agent_extension: Mapped[str | None] = mapped_column(String(20), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A one-time password (first admin, reset by an admin): only the password change works
    # until the user chooses their own.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    citizen_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class Setting(Base):
    """Small key/value facts about the database itself (e.g. that the demo data is seeded)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class RoutingConfigVersion(Base):
    """One saved version of the routing configuration (services, skills, agents).

    The newest row is the one in force; older rows are kept for history and rollback.
    """

    __tablename__ = "routing_config_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(String(200), default="")
    document: Mapped[Any] = mapped_column(JSON)


class AgentStateRow(Base):
    """The state an agent chose last (or the router put her in), so a restart keeps it."""

    __tablename__ = "agent_states"

    agent: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class IvrTreeVersion(Base):
    """One version of the voice menu (tree as JSON): draft, published (one at most) or archived.

    The id is the version number shown to telecom staff; publishing an archived version is
    the rollback.
    """

    __tablename__ = "ivr_tree_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(String(200), default="")
    document: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(80))


class IvrRun(Base):
    """One call's way through the voice menu: the nodes entered and how it ended."""

    __tablename__ = "ivr_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    uniqueid: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    path: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(20))
    last_node: Mapped[str | None] = mapped_column(String(80))
    timed_out_nodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    self_served: Mapped[bool] = mapped_column(Boolean, default=False)
    service: Mapped[str | None] = mapped_column(String(40))


class RouterLease(Base):
    """Which node drives the PBX (``cti/cluster/lease_store.py`` reads and writes it in SQL)."""

    __tablename__ = "router_lease"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    # Raised at each change of holder: what carries an older one comes from a deposed node.
    token: Mapped[int] = mapped_column(BigInteger)
    # Seconds since the epoch on the database's clock.
    expires_at: Mapped[float] = mapped_column(Float)


class CallbackRow(Base):
    """A citizen's request to be called back (``routing.callbacks``), written once, then moved
    from state to state by compare-and-set (``cti.callback_store``): a state is committed
    before the action it announces (``dialling`` before the Originate, with its ActionID)."""

    __tablename__ = "callback_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), index=True)
    service: Mapped[str] = mapped_column(String(40))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    window: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(10))
    menu_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str | None] = mapped_column(String(80))
    call_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agent: Mapped[str | None] = mapped_column(String(20))
    action_id: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A logged-in browser, kept so that another node (after a failover) or this one after a
    restart knows it (``cti/web/session_store.py``). Only the token's SHA-256 is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    # Seconds since the epoch: pushed forward while the browser is in use (sliding expiry).
    expires_at: Mapped[float] = mapped_column(Float)
    # Why it ended (logged out, closed by an admin...), None while it lives.
    ended: Mapped[str | None] = mapped_column(String(80))


class AnsweredRequest(Base):
    """A state-changing request the router has answered, by its idempotency key, so that the
    same request resent to the next router (its predecessor died before the web node got the
    answer) gets this answer instead of running again (``cti/broker/answered.py``). Kept a
    few minutes."""

    __tablename__ = "answered_requests"

    # SHA-256 of the key with the request it came with (method, path, session, body).
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[list[list[str]]] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # Seconds since the epoch: what the sweep goes by.
    answered_at: Mapped[float] = mapped_column(Float, index=True)
