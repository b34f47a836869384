"""After-call webhooks waiting in the call store: written before the first try, so a bridge
that restarts delivers what it owed; `dead` once every try failed, until `bridge webhooks
retry` revives them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from bridge.records import utcnow
from bridge.store.database import Database
from bridge.store.dialect import Dialect, as_utc

DeliveryStatus = Literal["pending", "delivered", "dead"]

ENQUEUE = """
INSERT INTO webhook_deliveries (call_sid, url, secret_env, body, status, attempts, next_at,
                                last_error)
VALUES (?, ?, ?, ?, 'pending', 0, ?, '')
"""
DUE = """
SELECT id, call_sid, url, secret_env, body, status, attempts, next_at, last_error
FROM webhook_deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY id LIMIT ?
"""
BY_STATUS = """
SELECT id, call_sid, url, secret_env, body, status, attempts, next_at, last_error
FROM webhook_deliveries WHERE status = ? ORDER BY id
"""
DELIVERED = "UPDATE webhook_deliveries SET status = 'delivered', attempts = ? WHERE id = ?"
FAILED = """
UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, last_error = ? WHERE id = ?
"""
REVIVE = """
UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = ? WHERE status = 'dead'
"""


class Delivery(BaseModel):
    id: int
    call_sid: str
    url: str
    secret_env: str  # the environment variable holding the signing key
    body: str
    status: DeliveryStatus
    attempts: int
    next_at: datetime
    last_error: str


class SqlOutbox:
    def __init__(self, db: Database, dialect: Dialect) -> None:
        self._db = db
        self._d = dialect

    async def enqueue(self, call_sid: str, url: str, secret_env: str, body: str) -> None:
        params = (call_sid, url, secret_env, body, self._ts())
        async with self._db.transaction(write=True) as tx:
            await tx.execute(self._d.render_query(ENQUEUE), params)

    async def due(self, limit: int = 20) -> list[Delivery]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(self._d.render_query(DUE), (self._ts(), limit))
        return [self._delivery(row) for row in rows]

    async def with_status(self, status: DeliveryStatus) -> list[Delivery]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(self._d.render_query(BY_STATUS), (status,))
        return [self._delivery(row) for row in rows]

    async def delivered(self, delivery_id: int, attempts: int) -> None:
        async with self._db.transaction(write=True) as tx:
            await tx.execute(self._d.render_query(DELIVERED), (attempts, delivery_id))

    async def failed(
        self, delivery_id: int, attempts: int, retry_at: datetime | None, error: str
    ) -> None:
        """One more failed try: again at `retry_at`, or dead-lettered when None."""
        status = "pending" if retry_at is not None else "dead"
        params = (status, attempts, self._ts(retry_at), error[:500], delivery_id)
        async with self._db.transaction(write=True) as tx:
            await tx.execute(self._d.render_query(FAILED), params)

    async def revive_dead(self) -> int:
        """Every dead-lettered delivery due again now, its tries counted afresh."""
        async with self._db.transaction(write=True) as tx:
            return await tx.execute(self._d.render_query(REVIVE), (self._ts(),))

    def _ts(self, moment: datetime | None = None) -> object:
        return self._d.ts(moment or utcnow())

    @staticmethod
    def _delivery(row: dict[str, object]) -> Delivery:
        fields = dict(row)
        value = fields["next_at"]
        fields["next_at"] = as_utc(
            datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[arg-type]
        )
        return Delivery.model_validate(fields)
