"""What the trust checks keep in the shared store, so every instance agrees on them:
which call's media stream has started (a media token is spent once), which console sessions
were ended, and how many wrong verification answers a caller or an order has had."""

from __future__ import annotations

from datetime import datetime

from bridge.records import utcnow
from bridge.store.database import Database
from bridge.store.dialect import Dialect

# Only an active call whose stream has not started yet may start one: the spend is this row.
CLAIM_STREAM = """
UPDATE calls SET stream_sid = ?
WHERE call_sid = ? AND status = 'active' AND stream_sid = ''
"""
CALL_STATUS = "SELECT status FROM calls WHERE call_sid = ?"
REVOKE_SESSION = """
INSERT INTO revoked_sessions (nonce, expires_at) VALUES (?, ?)
ON CONFLICT (nonce) DO NOTHING
"""
PRUNE_REVOKED = "DELETE FROM revoked_sessions WHERE expires_at < ?"
SESSION_REVOKED = "SELECT 1 AS found FROM revoked_sessions WHERE nonce = ?"
ADD_FAILURE = "INSERT INTO verification_failures (subject, at) VALUES (?, ?)"
COUNT_FAILURES = "SELECT COUNT(*) AS n FROM verification_failures WHERE subject = ? AND at >= ?"
PRUNE_FAILURES = "DELETE FROM verification_failures WHERE at < ?"


class SqlTrustRecords:
    def __init__(self, db: Database, dialect: Dialect) -> None:
        self._db = db
        self._dialect = dialect

    async def call_status(self, call_sid: str) -> str | None:
        """The call's status as recorded, or None for a call never opened."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(self._dialect.render_query(CALL_STATUS), (call_sid,))
        return str(rows[0]["status"]) if rows else None

    async def claim_stream(self, call_sid: str, stream_sid: str) -> bool:
        """True for the first stream of an active call; False if it ended or has one already."""
        async with self._db.transaction(write=True) as tx:
            changed = await tx.execute(
                self._dialect.render_query(CLAIM_STREAM), (stream_sid, call_sid)
            )
        return changed > 0

    async def revoke_session(self, nonce: str, expires_at: datetime) -> None:
        d = self._dialect
        async with self._db.transaction(write=True) as tx:
            await tx.execute(d.render_query(PRUNE_REVOKED), (d.ts(utcnow()),))
            await tx.execute(d.render_query(REVOKE_SESSION), (nonce, d.ts(expires_at)))

    async def session_revoked(self, nonce: str) -> bool:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(self._dialect.render_query(SESSION_REVOKED), (nonce,))
        return bool(rows)

    async def add_verification_failure(self, subjects: list[str], forget_before: datetime) -> None:
        """One wrong answer, counted against each subject (the caller, the order)."""
        d = self._dialect
        now = d.ts(utcnow())
        async with self._db.transaction(write=True) as tx:
            await tx.execute(d.render_query(PRUNE_FAILURES), (d.ts(forget_before),))
            for subject in subjects:
                await tx.execute(d.render_query(ADD_FAILURE), (subject, now))

    async def verification_failures(self, subject: str, since: datetime) -> int:
        d = self._dialect
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(d.render_query(COUNT_FAILURES), (subject, d.ts(since)))
        return int(rows[0]["n"])
