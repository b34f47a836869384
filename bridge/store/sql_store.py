"""The call store written once over SQL; SQLite and PostgreSQL differ only in their driver."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bridge.records import (
    CallLeg,
    CallRecord,
    CallStatus,
    CallUsage,
    OutboundRequest,
    TurnRecord,
    TwilioAction,
    WrapUp,
    Writing,
    utcnow,
)
from bridge.store import queries as q
from bridge.store.base import CallQuery, CallSummary, UnknownCallError
from bridge.store.campaigns import SqlCampaigns
from bridge.store.database import Database, Row, Transaction
from bridge.store.dialect import Dialect, as_utc
from bridge.store.outbox import SqlOutbox
from bridge.store.schema import (
    CREATE_VERSION_TABLE,
    CURRENT_VERSION,
    MIGRATIONS,
    RECORD_VERSION,
)
from bridge.store.trust import SqlTrustRecords
from bridge.store.warm_transfers import SqlWarmTransfers

INTERRUPTED_REASON = "bridge stopped during the call"


class SqlCallStore:
    """A `CallStore` over any `Database`; every public method is one transaction."""

    def __init__(self, db: Database, dialect: Dialect) -> None:
        self._db = db
        self._dialect = dialect
        self.trust = SqlTrustRecords(db, dialect)
        self.outbox = SqlOutbox(db, dialect)
        self.campaigns = SqlCampaigns(db, dialect)
        self.warm = SqlWarmTransfers(db, dialect)

    async def migrate(self) -> None:
        d = self._dialect
        # One transaction, the lock first: instances starting together on a new database
        # must not both create the version table.
        async with self._db.transaction(write=True) as tx:
            if d.migration_lock:
                await tx.execute(d.migration_lock)
            await tx.execute(d.render_ddl(CREATE_VERSION_TABLE))
            rows = await tx.fetch(CURRENT_VERSION)
            current = int(rows[0]["version"])
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    await tx.execute(d.render_ddl(statement))
                await self._run(tx, RECORD_VERSION, (migration.version, d.ts(utcnow())))

    async def schema_version(self) -> int:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(CURRENT_VERSION)
        return int(rows[0]["version"])

    async def open_call(self, record: CallRecord) -> None:
        d = self._dialect
        async with self._db.transaction(write=True) as tx:
            await self._run(
                tx,
                q.INSERT_CALL,
                (
                    record.call_sid,
                    record.stream_sid,
                    record.from_number,
                    record.to_number,
                    record.dialplan,
                    record.status,
                    record.end_reason,
                    d.ts(record.started_at),
                    d.ts(record.ended_at),
                    record.instance_id,
                    record.direction,
                    record.outcome,
                    record.answered_by,
                ),
            )
            for turn in record.turns:
                await self._run(tx, q.UPSERT_TURN, self._turn_params(record.call_sid, turn))
            for action in record.twilio_actions:
                await self._run(tx, q.INSERT_ACTION, self._action_params(record.call_sid, action))

    async def add_turn(self, call_sid: str, turn: TurnRecord) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._require_call(tx, call_sid)
            await self._run(tx, q.UPSERT_TURN, self._turn_params(call_sid, turn))

    async def add_action(self, call_sid: str, action: TwilioAction) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._require_call(tx, call_sid)
            await self._run(tx, q.INSERT_ACTION, self._action_params(call_sid, action))

    async def add_leg(self, call_sid: str, leg: CallLeg) -> None:
        d = self._dialect
        params = (call_sid, leg.kind, leg.department, leg.target, leg.status, leg.sid)
        async with self._db.transaction(write=True) as tx:
            await self._require_call(tx, call_sid)
            await self._run(tx, q.INSERT_LEG, (*params, leg.duration_s, d.ts(leg.at)))

    async def add_writing(self, call_sid: str, writing: Writing) -> None:
        d = self._dialect
        usage = d.json(writing.usage.model_dump(mode="json"))
        async with self._db.transaction(write=True) as tx:
            await self._require_call(tx, call_sid)
            await self._run(
                tx, q.INSERT_WRITING, (call_sid, writing.purpose, usage, d.ts(writing.at))
            )

    async def reopen_call(self, call_sid: str) -> bool:
        async with self._db.transaction(write=True) as tx:
            return await self._run(tx, q.REOPEN_CALL, (call_sid,)) > 0

    async def set_stream(self, call_sid: str, stream_sid: str) -> None:
        async with self._db.transaction(write=True) as tx:
            if await self._run(tx, q.SET_STREAM, (stream_sid, call_sid)) == 0:
                raise UnknownCallError(call_sid)

    async def close_call(self, call_sid: str, status: CallStatus, reason: str) -> bool:
        if status == "active":
            raise ValueError("a call cannot be closed as 'active'")
        async with self._db.transaction(write=True) as tx:
            changed = await self._run(
                tx, q.CLOSE_CALL, (status, reason, self._dialect.ts(utcnow()), call_sid)
            )
        return changed > 0

    async def set_outcome(self, call_sid: str, outcome: str, *, replace: bool = False) -> bool:
        async with self._db.transaction(write=True) as tx:
            return await self._run(tx, q.SET_OUTCOME, (outcome, call_sid, replace)) > 0

    async def set_twilio_status(self, call_sid: str, status: str) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._run(
                tx, "UPDATE calls SET twilio_status = ? WHERE call_sid = ?", (status, call_sid)
            )

    async def set_wrap_up(self, call_sid: str, wrap_up: WrapUp, usage: CallUsage) -> None:
        d = self._dialect
        params = (d.json(wrap_up.model_dump(mode="json")), d.json(usage.model_dump()), call_sid)
        async with self._db.transaction(write=True) as tx:
            await self._run(tx, q.SET_WRAP_UP, params)

    async def add_agent_speech(self, call_sid: str, ms: int) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._run(tx, q.ADD_AGENT_SPEECH, (ms, call_sid))

    async def set_answered_by(self, call_sid: str, answered_by: str) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._run(tx, q.SET_ANSWERED_BY, (answered_by, call_sid))

    async def answered_by_of(self, call_sids: list[str]) -> dict[str, str]:
        marks = ", ".join("?" for _ in call_sids)
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(
                tx,
                "SELECT call_sid, answered_by FROM calls"
                f" WHERE call_sid IN ({marks}) AND answered_by <> ''",
                call_sids,
            )
        return {str(row["call_sid"]): str(row["answered_by"]) for row in rows}

    async def add_outbound(self, request: OutboundRequest) -> None:
        d = self._dialect
        async with self._db.transaction(write=True) as tx:
            await self._run(
                tx,
                q.INSERT_OUTBOUND,
                (
                    request.request_id,
                    request.dialplan,
                    request.to_number,
                    request.from_number,
                    d.json(request.variables),
                    request.call_sid,
                    d.ts(request.created_at),
                ),
            )

    async def set_outbound_call(self, request_id: str, call_sid: str) -> None:
        async with self._db.transaction(write=True) as tx:
            await self._run(tx, q.SET_OUTBOUND_CALL, (call_sid, request_id))

    async def get_outbound(self, request_id: str) -> OutboundRequest | None:
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(tx, q.SELECT_OUTBOUND, (request_id,))
        if not rows:
            return None
        fields = self._moments(rows[0], "created_at")
        fields["variables"] = self._dialect.load_json(rows[0]["variables"])
        return OutboundRequest.model_validate(fields)

    async def get(self, call_sid: str) -> CallRecord | None:
        async with self._db.transaction(write=False) as tx:
            calls = await self._fetch(tx, q.SELECT_CALL, (call_sid,))
            if not calls:
                return None
            turns = await self._fetch(tx, q.SELECT_TURNS, (call_sid,))
            actions = await self._fetch(tx, q.SELECT_ACTIONS, (call_sid,))
            legs = await self._fetch(tx, q.SELECT_LEGS, (call_sid,))
            writings = await self._fetch(tx, q.SELECT_WRITINGS, (call_sid,))
        wrap_up = self._dialect.load_json(calls[0]["wrap_up"])
        return CallRecord.model_validate(
            {
                **self._moments(calls[0], "started_at", "ended_at"),
                "wrap_up": wrap_up,
                "turns": [self._turn(row) for row in turns],
                "twilio_actions": [self._action(row) for row in actions],
                "legs": [CallLeg.model_validate(self._moments(row, "at")) for row in legs],
                "writings": [self._writing(row) for row in writings],
            }
        )

    async def list_calls(self, query: CallQuery) -> list[CallSummary]:
        d = self._dialect
        filters: list[str] = []
        params: list[Any] = []
        if query.number:
            filters.append(q.FILTER_NUMBER)
            params += [q.like_substring(query.number)] * 2
        if query.since is not None:
            filters.append(q.FILTER_SINCE)
            params.append(d.ts(query.since))
        if query.until is not None:
            filters.append(q.FILTER_UNTIL)
            params.append(d.ts(query.until))
        if query.dialplan is not None:
            filters.append(q.FILTER_DIALPLAN)
            params.append(query.dialplan)
        if query.status is not None:
            filters.append(q.FILTER_STATUS)
            params.append(query.status)
        where = f"WHERE {' AND '.join(filters)}" if filters else ""
        sql = f"{q.LIST_CALLS_HEAD} {where} {q.LIST_CALLS_TAIL}"
        async with self._db.transaction(write=False) as tx:
            rows = await self._fetch(tx, sql, (*params, query.limit, query.offset))
        return [
            CallSummary.model_validate(
                {
                    **self._moments(row, "started_at", "ended_at"),
                    "usage": self._dialect.load_json(row["usage"]),
                }
            )
            for row in rows
        ]

    async def close_interrupted(
        self, instance_id: str | None = None, started_before: datetime | None = None
    ) -> int:
        d = self._dialect
        if instance_id is None:
            sql, params = q.CLOSE_INTERRUPTED, (INTERRUPTED_REASON, d.ts(utcnow()))
        else:
            # No cutoff: a moment before every call, so only the instance's own calls match.
            cutoff = started_before or datetime.min.replace(tzinfo=UTC)
            sql = q.CLOSE_INTERRUPTED_OF_INSTANCE
            params = (INTERRUPTED_REASON, d.ts(utcnow()), instance_id, d.ts(cutoff))
        async with self._db.transaction(write=True) as tx:
            return await self._run(tx, sql, params)

    async def close(self) -> None:
        await self._db.close()

    async def _run(self, tx: Transaction, sql: str, params: Sequence[Any]) -> int:
        return await tx.execute(self._dialect.render_query(sql), params)

    async def _fetch(self, tx: Transaction, sql: str, params: Sequence[Any]) -> list[Row]:
        return await tx.fetch(self._dialect.render_query(sql), params)

    async def _require_call(self, tx: Transaction, call_sid: str) -> None:
        if not await self._fetch(tx, q.CALL_EXISTS, (call_sid,)):
            raise UnknownCallError(call_sid)

    def _turn_params(self, call_sid: str, turn: TurnRecord) -> tuple[Any, ...]:
        d = self._dialect
        return (
            call_sid,
            turn.index,
            turn.source,
            turn.caller,
            turn.agent,
            turn.heard,
            turn.interrupted,
            turn.resumed,
            d.json([tool.model_dump(mode="json") for tool in turn.tools]),
            d.json(turn.latency_ms.model_dump(mode="json")),
            d.json(turn.usage.model_dump(mode="json") if turn.usage else None),
            d.ts(turn.started_at),
            turn.speech_ms,
        )

    def _action_params(self, call_sid: str, action: TwilioAction) -> tuple[Any, ...]:
        d = self._dialect
        return (
            call_sid,
            action.method,
            action.path,
            d.json(action.params),
            action.ok,
            action.error,
            d.ts(action.at),
        )

    def _turn(self, row: Row) -> TurnRecord:
        load = self._dialect.load_json
        fields = self._moments(row, "started_at")
        fields["index"] = fields.pop("idx")
        fields["interrupted"] = bool(row["interrupted"])
        for column in ("tools", "latency_ms", "usage"):
            fields[column] = load(row[column])
        return TurnRecord.model_validate(fields)

    def _writing(self, row: Row) -> Writing:
        fields = self._moments(row, "at")
        fields["usage"] = self._dialect.load_json(row["usage"])
        return Writing.model_validate(fields)

    def _action(self, row: Row) -> TwilioAction:
        return TwilioAction.model_validate(
            {
                **self._moments(row, "at"),
                "ok": bool(row["ok"]),
                "params": self._dialect.load_json(row["params"]),
            }
        )

    @staticmethod
    def _moments(row: Row, *columns: str) -> Row:
        """The row with its timestamp columns as UTC datetimes, whatever the driver returned."""
        out = dict(row)
        for column in columns:
            value = out[column]
            if isinstance(value, str):
                out[column] = as_utc(datetime.fromisoformat(value))
            elif value is not None:
                out[column] = as_utc(value)
        return out
