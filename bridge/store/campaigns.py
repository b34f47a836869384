"""Campaign rows in the shared store: contacts claimed in transactions.

A claim locks the campaign's row (PostgreSQL `FOR UPDATE`; SQLite serialises writers), so the
live-call cap and the call rate hold across every instance sharing the database, and takes
contacts with `FOR UPDATE SKIP LOCKED`. A contact claimed is `dialing` before Twilio hears of
it, so a crash can leave it undialled but never dials it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from bridge.records import utcnow
from bridge.store.database import Database, Row, Transaction
from bridge.store.dialect import Dialect, as_utc

# What the campaign's own rules make of a due contact (hours, do-not-call).
Decision = Literal["dial", "dnc"] | datetime
LIVE_STATES = ("dialing", "live")
# A call holds its place under the live cap until Twilio's final status, or this long after
# it ended here (a status callback lost on the way).
FINAL_STATUS_WAIT = timedelta(seconds=60)
CLAIM_BATCH = 20

_CONTACT_COLUMNS = (
    "campaign_id, row_no, phone, variables, time_zones, state, attempts, next_at, outcome, "
    "call_sid, call_sids, claimed_by"
)


class SqlCampaigns:
    def __init__(self, db: Database, dialect: Dialect) -> None:
        self._db = db
        self._d = dialect

    # -- campaigns ------------------------------------------------------------------------

    async def create(
        self, campaign_id: str, settings: dict[str, Any], contacts: list[dict[str, Any]]
    ) -> None:
        d, now = self._d, utcnow()
        async with self._db.transaction(write=True) as tx:
            await self._run(
                tx,
                "INSERT INTO campaigns (campaign_id, settings, status, last_dial_at, created_at)"
                " VALUES (?, ?, 'running', NULL, ?)",
                (campaign_id, d.json(settings), d.ts(now)),
            )
            for contact in contacts:
                await self._run(
                    tx,
                    f"INSERT INTO campaign_contacts ({_CONTACT_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, '', '', ?, '')",
                    (
                        campaign_id,
                        contact["row"],
                        contact["phone"],
                        d.json(contact["variables"]),
                        " ".join(contact["time_zones"]),
                        d.ts(now),
                        d.json([]),
                    ),
                )

    async def get(self, campaign_id: str) -> Row | None:
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(
                tx, "SELECT * FROM campaigns WHERE campaign_id = ?", (campaign_id,)
            )
        return self._campaign(rows[0]) if rows else None

    async def all(self) -> list[Row]:
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(tx, "SELECT * FROM campaigns ORDER BY created_at DESC", ())
        return [self._campaign(row) for row in rows]

    async def running(self) -> list[Row]:
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(tx, "SELECT * FROM campaigns WHERE status = 'running'", ())
        return [self._campaign(row) for row in rows]

    async def set_status(self, campaign_id: str, status: str, allowed_from: Sequence[str]) -> bool:
        """Move a campaign to `status` from one of `allowed_from`; a cancel closes what is
        still to dial (calls live finish)."""
        marks = ", ".join("?" for _ in allowed_from)
        async with self._db.transaction(write=True) as tx:
            changed = await self._run(
                tx,
                f"UPDATE campaigns SET status = ? WHERE campaign_id = ? AND status IN ({marks})",
                (status, campaign_id, *allowed_from),
            )
            if changed and status == "canceled":
                await self._run(
                    tx,
                    "UPDATE campaign_contacts SET state = 'done', outcome = 'canceled'"
                    " WHERE campaign_id = ? AND state = 'pending'",
                    (campaign_id,),
                )
        return changed > 0

    async def finish_if_done(self, campaign_id: str) -> bool:
        """A running campaign with nothing pending or live is done."""
        async with self._db.transaction(write=True) as tx:
            changed = await self._run(
                tx,
                "UPDATE campaigns SET status = 'done' WHERE campaign_id = ? AND status = 'running'"
                " AND NOT EXISTS (SELECT 1 FROM campaign_contacts WHERE campaign_id = ?"
                " AND state <> 'done')",
                (campaign_id, campaign_id),
            )
        return changed > 0

    # -- contacts -------------------------------------------------------------------------

    async def claim(
        self,
        campaign_id: str,
        now: datetime,
        instance: str,
        *,
        max_live: int,
        min_gap: timedelta,
        decide: Callable[[Row], Decision],
    ) -> Row | None:
        """Take the next due contact to dial, within the campaign's caps; None when none may
        be dialled now. Contacts `decide` puts later or on the do-not-call list are moved."""
        d = self._d
        lock = "" if d.name == "sqlite" else " FOR UPDATE"
        skip = "" if d.name == "sqlite" else " FOR UPDATE SKIP LOCKED"
        async with self._db.transaction(write=True) as tx:
            campaigns = await self._fetch(
                tx,
                f"SELECT status, last_dial_at FROM campaigns WHERE campaign_id = ?{lock}",
                (campaign_id,),
            )
            if not campaigns or campaigns[0]["status"] != "running":
                return None
            last = self._moment(campaigns[0]["last_dial_at"])
            if last is not None and now < last + min_gap:
                return None
            live = await self._fetch(
                tx,
                "SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ?"
                " AND state IN ('dialing', 'live')",
                (campaign_id,),
            )
            if int(live[0]["n"]) >= max_live:
                return None
            due = await self._fetch(
                tx,
                f"SELECT {_CONTACT_COLUMNS} FROM campaign_contacts WHERE campaign_id = ?"
                f" AND state = 'pending' AND next_at <= ? ORDER BY next_at, row_no"
                f" LIMIT {CLAIM_BATCH}{skip}",
                (campaign_id, d.ts(now)),
            )
            for raw in due:
                contact = self._contact(raw)
                decision = decide(contact)
                if isinstance(decision, datetime):
                    await self._run(
                        tx,
                        "UPDATE campaign_contacts SET next_at = ?"
                        " WHERE campaign_id = ? AND row_no = ?",
                        (d.ts(decision), campaign_id, contact["row_no"]),
                    )
                elif decision == "dnc":
                    await self._settle(tx, campaign_id, contact["row_no"], "do_not_call", None)
                else:
                    await self._run(
                        tx,
                        "UPDATE campaign_contacts SET state = 'dialing', attempts = attempts + 1,"
                        " call_sid = '', claimed_by = ? WHERE campaign_id = ? AND row_no = ?",
                        (instance, campaign_id, contact["row_no"]),
                    )
                    await self._run(
                        tx,
                        "UPDATE campaigns SET last_dial_at = ? WHERE campaign_id = ?",
                        (d.ts(now), campaign_id),
                    )
                    contact["attempts"] += 1
                    return contact
        return None

    async def dialled(self, campaign_id: str, row_no: int, call_sid: str) -> None:
        async with self._db.transaction(write=True) as tx:
            rows = await self._fetch(
                tx,
                "SELECT call_sids FROM campaign_contacts WHERE campaign_id = ? AND row_no = ?",
                (campaign_id, row_no),
            )
            sids = [*self._d.load_json(rows[0]["call_sids"]), call_sid]
            await self._run(
                tx,
                "UPDATE campaign_contacts SET state = 'live', call_sid = ?, call_sids = ?"
                " WHERE campaign_id = ? AND row_no = ?",
                (call_sid, self._d.json(sids), campaign_id, row_no),
            )

    async def ended_calls(self, campaign_id: str) -> list[Row]:
        """Live contacts whose call has closed with an outcome: row_no, attempts, outcome.

        A call a crash interrupted is over for us at once; its outcome, if none came before
        the crash, is `interrupted`. Any other call waits for Twilio's final status (or
        FINAL_STATUS_WAIT), whose outcome is `unknown` if even that never came.
        """
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(
                tx,
                "SELECT c.row_no, c.attempts, k.outcome, k.status FROM campaign_contacts c"
                " JOIN calls k ON k.call_sid = c.call_sid"
                " WHERE c.campaign_id = ? AND c.state = 'live' AND k.status <> 'active'"
                " AND (k.status = 'interrupted' OR k.ended_at < ?"
                " OR (k.outcome <> '' AND k.twilio_status <> ''))",
                (campaign_id, self._d.ts(utcnow() - FINAL_STATUS_WAIT)),
            )
        return [
            {
                **row,
                "outcome": row["outcome"]
                or ("interrupted" if row["status"] == "interrupted" else "unknown"),
            }
            for row in rows
        ]

    async def unfinished_calls(
        self, campaign_id: str, placed_before: datetime, ended_before: datetime
    ) -> list[str]:
        """Live contacts' calls whose final status should have come by now: still open with no
        stream though placed before `placed_before`, or closed here before `ended_before` (the
        stream over) with none yet: the callback was lost, to a restart of this bridge maybe."""
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(
                tx,
                "SELECT k.call_sid FROM campaign_contacts c JOIN calls k ON k.call_sid = c.call_sid"
                " WHERE c.campaign_id = ? AND c.state = 'live' AND k.twilio_status = ''"
                " AND ((k.status = 'active' AND k.stream_sid = '' AND k.started_at < ?)"
                " OR (k.status NOT IN ('active', 'interrupted') AND k.ended_at < ?))",
                (campaign_id, self._d.ts(placed_before), self._d.ts(ended_before)),
            )
        return [str(row["call_sid"]) for row in rows]

    async def settle(
        self, campaign_id: str, row_no: int, outcome: str, retry_at: datetime | None
    ) -> None:
        """An attempt ended: dial again at `retry_at`, or done with `outcome`."""
        async with self._db.transaction(write=True) as tx:
            await self._settle(tx, campaign_id, row_no, outcome, retry_at)

    async def _settle(
        self,
        tx: Transaction,
        campaign_id: str,
        row_no: int,
        outcome: str,
        retry_at: datetime | None,
    ) -> None:
        state = "pending" if retry_at is not None else "done"
        next_at = self._d.ts(retry_at or utcnow())
        await self._run(
            tx,
            "UPDATE campaign_contacts SET state = ?, outcome = ?, next_at = ?"
            " WHERE campaign_id = ? AND row_no = ?",
            (state, outcome, next_at, campaign_id, row_no),
        )

    async def abandon_claims(self, instance: str | None) -> int:
        """Contacts an earlier run claimed but never got a call for (it stopped between the
        claim and Twilio's answer) are closed, not dialled again: at most once."""
        sql = (
            "UPDATE campaign_contacts SET state = 'done', outcome = 'interrupted'"
            " WHERE state = 'dialing'"
        )
        params: tuple[str, ...] = ()
        if instance is not None:
            sql += " AND claimed_by = ?"
            params = (instance,)
        async with self._db.transaction(write=True) as tx:
            return await self._run(tx, sql, params)

    async def contacts(self, campaign_id: str) -> list[Row]:
        """Every contact with its last call's start and end, in file order."""
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(
                tx,
                f"SELECT {', '.join('c.' + c for c in _CONTACT_COLUMNS.split(', '))},"
                " k.started_at, k.ended_at FROM campaign_contacts c"
                " LEFT JOIN calls k ON k.call_sid = c.call_sid AND c.call_sid <> ''"
                " WHERE c.campaign_id = ? ORDER BY c.row_no",
                (campaign_id,),
            )
        out = []
        for raw in rows:
            contact = self._contact(raw)
            contact["started_at"] = self._moment(raw["started_at"])
            contact["ended_at"] = self._moment(raw["ended_at"])
            out.append(contact)
        return out

    async def counts(self, campaign_id: str) -> dict[str, int]:
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(
                tx,
                "SELECT state, COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ?"
                " GROUP BY state",
                (campaign_id,),
            )
        return {str(row["state"]): int(row["n"]) for row in rows}

    # -- do not call ----------------------------------------------------------------------

    async def add_do_not_call(self, phone: str, source: str) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._add_do_not_call(tx, phone, source)

    async def opt_out(self, phone: str, call_sid: str, reason: str) -> None:
        """A callee asked not to be called again: on the list, and the call `opted_out`,
        in one transaction (the outcome replaces `human`)."""
        source = f"opt_out {call_sid} {reason}".strip()[:200]
        async with self._db.transaction(write=True) as tx:
            await self._add_do_not_call(tx, phone, source)
            await self._run(
                tx, "UPDATE calls SET outcome = 'opted_out' WHERE call_sid = ?", (call_sid,)
            )

    async def _add_do_not_call(self, tx: Transaction, phone: str, source: str) -> None:
        await self._run(
            tx,
            "INSERT INTO do_not_call (phone, source, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT (phone) DO NOTHING",
            (phone, source, self._d.ts(utcnow())),
        )

    async def do_not_call(self) -> set[str]:
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(tx, "SELECT phone FROM do_not_call", ())
        return {str(row["phone"]) for row in rows}

    # -- rows -----------------------------------------------------------------------------

    def _campaign(self, row: Row) -> Row:
        out = dict(row)
        out["settings"] = self._d.load_json(row["settings"])
        out["last_dial_at"] = self._moment(row["last_dial_at"])
        out["created_at"] = self._moment(row["created_at"])
        return out

    def _contact(self, row: Row) -> Row:
        out = {key: row[key] for key in _CONTACT_COLUMNS.split(", ")}
        out["variables"] = self._d.load_json(row["variables"])
        out["call_sids"] = self._d.load_json(row["call_sids"])
        out["time_zones"] = tuple(str(row["time_zones"]).split())
        out["next_at"] = self._moment(row["next_at"])
        out["attempts"] = int(row["attempts"])
        return out

    @staticmethod
    def _moment(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return as_utc(datetime.fromisoformat(value))
        return as_utc(value)

    async def _run(self, tx: Transaction, sql: str, params: Sequence[Any]) -> int:
        return await tx.execute(self._d.render_query(sql), params)

    async def _fetch(self, tx: Transaction, sql: str, params: Sequence[Any]) -> list[Row]:
        return await tx.fetch(self._d.render_query(sql), params)
