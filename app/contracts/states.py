"""The contract lifecycle (DOMAIN.md §2, R-LC-10) as data: which move each state allows.

A move the current state does not allow is refused with 409, the current status and the
moves that are allowed, before anything changes.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Protocol

from app.core.errors import InvalidTransition
from app.pricing.catalogue import OnboardingKind


class HasStatus(Protocol):
    """A stored contract or its read record: what the effective status is derived from."""

    @property
    def status(self) -> str: ...

    @property
    def termination_effective_on(self) -> date | None: ...


class Status(StrEnum):
    APPLIED = "applied"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"


class Move(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    START_ONBOARDING = "start_onboarding"
    RECORD_MILESTONE = "record_milestone"
    RECORD_INSPECTION = "record_inspection"
    COMPLETE_ONBOARDING = "complete_onboarding"
    CANCEL = "cancel"
    TERMINATE = "terminate"
    CHANGE_LICENCES = "change_licences"
    CHANGE_OPTIONS = "change_options"
    SUSPEND = "suspend"
    CHANGE_PLAN = "change_plan"


ALLOWED: dict[Status, tuple[Move, ...]] = {
    Status.APPLIED: (Move.ACCEPT, Move.REJECT, Move.WITHDRAW),
    Status.ACCEPTED: (Move.START_ONBOARDING, Move.CANCEL),
    Status.ONBOARDING: (
        Move.RECORD_MILESTONE,
        Move.RECORD_INSPECTION,
        Move.COMPLETE_ONBOARDING,
        Move.CANCEL,
    ),
    Status.ACTIVE: (
        Move.TERMINATE,
        Move.CHANGE_LICENCES,
        Move.CHANGE_OPTIONS,
        Move.SUSPEND,
        Move.CHANGE_PLAN,
    ),
    Status.REJECTED: (),
    Status.WITHDRAWN: (),
    Status.TERMINATED: (),
    Status.CANCELLED: (),
}

# Before service start the carrier may still end a contract whose onboarding overran its
# deadline (R-LC-6, Art. 14.4); see the contract changes feature.
PRE_SERVICE = frozenset({Status.ACCEPTED, Status.ONBOARDING})

# R-LC-5: the milestones of each kind of onboarding service (別記3).
MILESTONES: dict[str, tuple[str, ...]] = {
    OnboardingKind.SIMPLE: ("explanation", "initial_setup", "training", "trial", "manuals"),
    OnboardingKind.STANDARD: (
        "explanation",
        "requirements",
        "design",
        "build",
        "training",
        "trial",
        "manuals",
    ),
}


def effective_status(contract: HasStatus, today: date) -> Status:
    """The status as of ``today``: a running contract whose termination date has passed
    is terminated, whether or not the daily roll has recorded it yet."""
    status = Status(contract.status)
    end = contract.termination_effective_on
    if status is Status.ACTIVE and end is not None and end < today:
        return Status.TERMINATED
    return status


def ensure_allowed_now(contract: HasStatus, move: Move, today: date) -> None:
    ensure_allowed(effective_status(contract, today).value, move)


def ensure_allowed(status: str, move: Move) -> None:
    current = Status(status)
    allowed = ALLOWED[current]
    if move not in allowed:
        raise InvalidTransition(
            f"A contract that is {current.value} cannot {move.value.replace('_', ' ')}.",
            current=current.value,
            allowed=[m.value for m in allowed],
        )
