"""The hash chain of the operation log (issue 13 §3): tamper-evident, never forked.

An entry's hash is the SHA-256 of a canonical JSON text of everything it records and of
the hash of the entry before it. Linking takes the chain-head row with an UPDATE: on
PostgreSQL that locks the row until the transaction ends, on SQLite it takes the
database's write lock, so concurrent writers queue and each sees the head the one before
it left. The lock is one for every writer of the service, so it is taken as late as it
can be: an entry is linked and inserted when its transaction commits
(:func:`link_on_commit`), and the head is held for those few statements and the COMMIT,
not for the rest of the request (or for a whole batch of the daily roll). On PostgreSQL
a transaction's one entry (a request's) is linked by the database inside the commit's
one statement, which holds the head for that statement alone when it is the whole
transaction (autocommit: app/core/commit_writes.py). ``seq`` is therefore the order in
which the entries' transactions committed. A purge moves the anchor (the newest purged
entry's seq and hash) so that the chain still verifies from the first kept entry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
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


def inner_text(
    *,
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
) -> str:
    """The hashed text's middle: the entry's values but its seq and its prev_hash, which
    only the link knows (on PostgreSQL the database may put them in: :data:`_LINK_ONE`)."""
    values = [
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
    ]
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)[1:-1]


def hashed_text(seq: int, inner: str, prev_hash: str) -> str:
    """The JSON array ``[seq, …, prev_hash]`` the migration that started the chain froze
    (its text as ``json.dumps`` writes it, without spaces). A seq is digits and a hash is
    lowercase hex, written the same by JSON and by SQL, so the database can put them in."""
    return f'[{seq},{inner},"{prev_hash}"]'


def entry_hash(*, seq: int, prev_hash: str, **values: Any) -> str:
    """The hash of one entry (``values``: the columns :func:`inner_text` takes)."""
    return hashlib.sha256(hashed_text(seq, inner_text(**values), prev_hash).encode()).hexdigest()


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


def _linked_by_the_database() -> Template:
    """One entry linked by PostgreSQL inside the commit's one statement: the head is
    locked (FOR UPDATE: a head moved by a writer that committed meanwhile is read as it
    is now), moved to the next seq and the hash of :func:`hashed_text`, computed by
    ``sha256`` from the text Python wrote but for the seq and the previous hash; the entry
    is inserted from what the move returns. No round trip for the head, and it is held
    for that one statement, not from a link to a COMMIT."""
    was = (
        select(_HEAD.c.id, _HEAD.c.last_seq, _HEAD.c.last_hash)
        .where(_HEAD.c.id == HEAD_ID)
        .with_for_update()
        .cte("chain_was")
    )
    seq = was.c.last_seq + literal_column("1", BigInteger)
    text = (
        literal_column("'['", String)
        + sql_cast(seq, String)
        + literal_column("','", String)
        + bindparam("link_inner", type_=String)
        + literal_column("',\"'", String)
        + was.c.last_hash
        + literal_column("'\"]'", String)
    )
    hashed = func.encode(
        func.sha256(func.convert_to(text, literal_column("'UTF8'"))), literal_column("'hex'")
    )
    moved = (
        update(_HEAD)
        .where(_HEAD.c.id == was.c.id)
        .values(last_seq=seq, last_hash=hashed)
        .returning(_HEAD.c.last_seq, _HEAD.c.last_hash, was.c.last_hash.label("prev_hash"))
        .cte("chain_moved")
    )
    # Scalar subqueries, not a FROM: without a head to move, the entry is still inserted,
    # with a NULL seq, and the NOT NULL refuses the whole statement; it would otherwise
    # insert nothing, and the change would commit without its entry.
    chained = {
        name: select(moved.c[column]).scalar_subquery()
        for name, column in (("seq", "last_seq"), ("prev_hash", "prev_hash"), ("hash", "last_hash"))
    }
    values = [chained.get(c.key, bindparam(f"link_{c.key}", type_=c.type)) for c in _ENTRIES.c]
    columns = [c.key for c in _ENTRIES.c]
    return Template(insert(_ENTRIES).from_select(columns, select(*values)))


_LINK_ONE = _linked_by_the_database()


@before_writing
def link_on_commit(session: Session) -> None:
    """Reserve the seqs of the transaction's entries in one UPDATE of the head, hash them
    in order; the entries and the head's new hash are written with the commit's other
    rows (app/core/commit_writes.py). One entry, as a request writes, is linked by
    PostgreSQL in that statement (:data:`_LINK_ONE`). (Sync: SQLAlchemy runs the hook
    inside the async session's greenlet, where execute() is allowed.)"""
    pending: list[Entry] = session.info.pop(PENDING, [])
    if not pending:
        return
    if len(pending) == 1 and session.get_bind().dialect.name == "postgresql":
        entry = pending[0]
        values = {f"link_{key}": value for key, value in entry.items()}
        execute_at_commit(session, _LINK_ONE, values | {"link_inner": inner_text(**entry)})
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
