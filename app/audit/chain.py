"""The hash chain of the operation log (issue 13 §3): tamper-evident, never forked.

An entry's hash is the SHA-256 of a canonical JSON text of everything it records and of
the hash of the entry before it. Linking takes the chain-head row with an UPDATE: on
PostgreSQL that locks the row until the transaction ends, on SQLite it takes the
database's write lock, so concurrent writers queue and each sees the head the one before
it left. The lock is one for every writer of the service, so it is taken as late as it
can be: an entry is linked and inserted when its transaction commits
(:func:`link_on_commit`), and the head is held for those few statements and the COMMIT,
not for the rest of the request (or for a whole batch of the daily roll). ``seq`` is
therefore the order in which the entries' transactions committed. A purge moves the
anchor (the newest purged entry's seq and hash) so that the chain still verifies from
the first kept entry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, update
from sqlalchemy.orm import Session, SessionTransaction

from app.audit.models import AuditChainHead, AuditRecord
from app.core.commit_writes import (
    Template,
    before_writing,
    execute_at_commit,
    insert_at_commit,
)

GENESIS_HASH = "0" * 64
HEAD_ID = 1
# Where a session keeps the entries it has recorded and not yet linked (Session.info).
PENDING = "audit.pending"


def instant_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    id: str,
    occurred_at: datetime,
    actor_key_id: str,
    action: str,
    resource_type: str,
    resource_id: str,
    customer_id: str | None,
    before: Any,
    after: Any,
    request_id: str | None,
    prev_hash: str,
) -> str:
    """The hash of one entry; the migration that started the chain froze this rule."""
    text = json.dumps(
        [
            seq,
            id,
            instant_text(occurred_at),
            actor_key_id,
            action,
            resource_type,
            resource_id,
            customer_id,
            before,
            after,
            request_id,
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def hash_of(entry: Any) -> str:
    """The hash of an entry or of a row read back with the same columns."""
    return entry_hash(
        seq=entry.seq,
        id=entry.id,
        occurred_at=entry.occurred_at,
        actor_key_id=entry.actor_key_id,
        action=entry.action,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        customer_id=entry.customer_id,
        before=entry.before,
        after=entry.after,
        request_id=entry.request_id,
        prev_hash=entry.prev_hash,
    )


# An entry's row as a mapping of its columns (app/audit/service.py builds it).
Entry = dict[str, Any]


def defer(session: Session, entry: Entry) -> None:
    """Keep ``entry`` to be linked and inserted when ``session`` commits."""
    if session.in_nested_transaction():
        # A rolled-back SAVEPOINT would not take a deferred entry with it.
        raise RuntimeError("audit entries are recorded outside SAVEPOINTs")
    if session.get_transaction() is None:
        # The entry belongs to a transaction, so that its rollback takes the entry back
        # (begin() connects lazily: no statement, no lock).
        session.begin()
    session.info.setdefault(PENDING, []).append(entry)


_ENTRIES = cast(Table, AuditRecord.__table__)
_HEAD = cast(Table, AuditChainHead.__table__)
# Built once, on the table: an UPDATE of the ORM entity would be an ORM bulk update,
# which evaluates its criteria against the session's objects on every commit (~5 % of a
# customer create's CPU), and its cache key would be computed anew each time.
_RESERVE = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(last_seq=_HEAD.c.last_seq + bindparam("reserved"))
    .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)
)
_MOVE_HEAD = Template(
    update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_hash=bindparam("head_last_hash"))
)


@before_writing
def link_on_commit(session: Session) -> None:
    """Reserve the seqs of the transaction's entries in one UPDATE of the head, hash them
    in order; the entries and the head's new hash are written with the commit's other
    rows (app/core/commit_writes.py). (Sync: SQLAlchemy runs the hook inside the async
    session's greenlet, where execute() is allowed.)"""
    pending: list[Entry] = session.info.pop(PENDING, [])
    if not pending:
        return
    head = session.execute(_RESERVE, {"reserved": len(pending)}).one()
    seq, prev_hash = int(head[0]) - len(pending), str(head[1])
    for entry in pending:
        seq += 1
        entry["seq"], entry["prev_hash"] = seq, prev_hash
        entry["hash"] = prev_hash = entry_hash(**entry)
        insert_at_commit(session, _ENTRIES, entry)
    execute_at_commit(session, _MOVE_HEAD, {"head_last_hash": prev_hash})


@event.listens_for(Session, "after_soft_rollback")
def forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back transaction's entries go with it (also one that never reached the
    database: ``after_rollback`` would not fire for it)."""
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)
