"""Warm transfers in flight, in the call store: every webhook of the human's leg may reach
another instance than the one that rang it, so what it needs (the caller's call, the
conference, the brief) is kept here. A state moves forward once, in one statement, so two
callbacks racing (a decline and the leg's final status) act once."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bridge.records import utcnow
from bridge.store.database import Database
from bridge.store.dialect import Dialect, as_utc

# ringing: the human's phone rings; answered: they hear the brief; accepted: joined to the
# caller; returned: the caller went back to the agent; ended: the accepted leg hung up.
WarmState = Literal["ringing", "answered", "accepted", "returned", "ended"]

_COLUMNS = (
    "transfer_id, call_sid, dialplan, department, target, conference, human_call_sid, brief, "
    "state, created_at"
)
INSERT = f"INSERT INTO warm_transfers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
SELECT = f"SELECT {_COLUMNS} FROM warm_transfers WHERE transfer_id = ?"
SET_HUMAN = "UPDATE warm_transfers SET human_call_sid = ? WHERE transfer_id = ?"
SET_BRIEF = "UPDATE warm_transfers SET brief = ? WHERE transfer_id = ?"
MOVE = "UPDATE warm_transfers SET state = ? WHERE transfer_id = ? AND state = ?"


class WarmTransfer(BaseModel):
    transfer_id: str
    call_sid: str  # the caller's
    dialplan: str
    department: str
    target: str
    conference: str  # the room the caller holds in
    human_call_sid: str = ""
    brief: str = ""  # what the human hears first ("" until written)
    state: WarmState = "ringing"
    created_at: datetime = Field(default_factory=utcnow)


class SqlWarmTransfers:
    def __init__(self, db: Database, dialect: Dialect) -> None:
        self._db = db
        self._d = dialect

    async def add(self, transfer: WarmTransfer) -> None:
        t = transfer
        params = (
            t.transfer_id, t.call_sid, t.dialplan, t.department, t.target, t.conference,
            t.human_call_sid, t.brief, t.state, self._d.ts(t.created_at),
        )  # fmt: skip
        async with self._db.transaction(write=True) as tx:
            await tx.execute(self._d.render_query(INSERT), params)

    async def get(self, transfer_id: str) -> WarmTransfer | None:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(self._d.render_query(SELECT), (transfer_id,))
        if not rows:
            return None
        fields = dict(rows[0])
        value = fields["created_at"]
        fields["created_at"] = as_utc(
            datetime.fromisoformat(value) if isinstance(value, str) else value
        )
        return WarmTransfer.model_validate(fields)

    async def set_human(self, transfer_id: str, call_sid: str) -> None:
        async with self._db.transaction(write=True) as tx:
            await tx.execute(self._d.render_query(SET_HUMAN), (call_sid, transfer_id))

    async def set_brief(self, transfer_id: str, brief: str) -> None:
        async with self._db.transaction(write=True) as tx:
            await tx.execute(self._d.render_query(SET_BRIEF), (brief, transfer_id))

    async def move(self, transfer_id: str, before: WarmState, after: WarmState) -> bool:
        """`before` -> `after`; False (and nothing changed) when it was not in `before`."""
        async with self._db.transaction(write=True) as tx:
            changed = await tx.execute(self._d.render_query(MOVE), (after, transfer_id, before))
        return changed > 0
