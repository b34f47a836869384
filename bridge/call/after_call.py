"""After the call: the post-call notes (`wrap_up`), kept on the record, and the dialplan's
webhook.

The call's JSON is put in the store's outbox before the first try, then POSTed with
`X-Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>` and
`X-Bridge-Delivery: <id>` (the same on every retry of one delivery). A 2xx delivers it; anything
else is tried again after 1, 2, 4... seconds (`backoff_s`), and after `MAX_ATTEMPTS` it is
dead-lettered until `bridge webhooks retry`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import aiohttp

from bridge.call.llm_writer import LlmWriter
from bridge.call.wrap_up import wrap_up
from bridge.dialplan.loader import DialplanSet
from bridge.observability import metrics
from bridge.records import CallRecord, WrapUp, messages_of, usage_of, utcnow
from bridge.store.base import CallStore
from bridge.store.outbox import Delivery, SqlOutbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
POLL_S = 1.0
POST_TIMEOUT_S = 10.0
ENDED_QUEUE = 256  # calls ended and not yet put in the outbox
WRITING_AT_ONCE = 8  # calls whose notes are written together (an LLM may take seconds each)


def signature(key: str, timestamp: int, body: str) -> str:
    mac = hmac.new(key.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def payload(record: CallRecord, notes: WrapUp, recording_url: str | None) -> str:
    return json.dumps(
        {
            "event": "call.ended",
            "call": record.model_dump(mode="json"),
            "summary": notes.summary,
            "disposition": notes.disposition,
            "fields": notes.fields,
            "messages": [m.model_dump(mode="json") for m in messages_of(record)],
            "outcome": record.status,
            "usage": usage_of(record).model_dump(),
            "recording_url": recording_url,
        },
        separators=(",", ":"),
    )


class WebhookCourier:
    """Puts ended calls in the outbox and delivers what is due, as one owned task."""

    def __init__(
        self,
        store: CallStore,
        dialplans: DialplanSet,
        recording_url: Callable[[str], str],
        writer: LlmWriter | None = None,
        *,
        backoff_s: float = 1.0,
        poll_s: float = POLL_S,
    ) -> None:
        self._store = store
        self._dialplans = dialplans
        self._recording_url = recording_url
        self._writer = writer  # the LLM that writes the notes, when the dialplan has one
        self._backoff_s = backoff_s
        self._poll_s = poll_s  # how often retries that fell due are looked for
        self._ended: asyncio.Queue[tuple[str, bool]] = asyncio.Queue(ENDED_QUEUE)
        self._wake = asyncio.Event()
        self._writing: set[asyncio.Task[None]] = set()

    def call_over(self, call_sid: str, unless_transferred: bool = False) -> None:
        """The call is over: its webhook goes out (if its dialplan has one). A stream's end
        says `unless_transferred`: a transfer's outcome decides then (the caller may return)."""
        try:
            self._ended.put_nowait((call_sid, unless_transferred))
        except asyncio.QueueFull:
            log.error("after-call queue full: the webhook of %s is dropped", call_sid)
        self._wake.set()

    async def run(self, _app: object) -> AsyncIterator[None]:
        """An aiohttp cleanup context: the courier runs while the app does."""
        task = asyncio.create_task(self._loop(), name="webhook-courier")
        try:
            yield
        finally:
            task.cancel()
            for writing in self._writing:
                writing.cancel()
            await asyncio.gather(task, *self._writing, return_exceptions=True)

    async def _loop(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    self._start_writing()
                    await deliver_due(self._store.outbox, http, self._backoff_s)
                except Exception:
                    log.exception("after-call webhooks: a round failed; trying again")
                self._wake.clear()
                try:
                    async with asyncio.timeout(self._poll_s):
                        await self._wake.wait()
                except TimeoutError:
                    pass

    def _start_writing(self) -> None:
        """Each ended call's notes (and webhook) in a task of its own, a few at a time."""
        while len(self._writing) < WRITING_AT_ONCE and not self._ended.empty():
            call_sid, unless_transferred = self._ended.get_nowait()
            task = asyncio.create_task(
                self._after(call_sid, unless_transferred), name=f"after-call-{call_sid}"
            )
            self._writing.add(task)
            task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        self._wake.set()  # its webhook is due, and the next call may start

    async def _after(self, call_sid: str, unless_transferred: bool) -> None:
        try:
            await self._enqueue(call_sid, unless_transferred)
        except Exception:
            log.exception("after the call %s: the notes or the webhook failed", call_sid)

    async def _enqueue(self, call_sid: str, unless_transferred: bool) -> None:
        record = await self._store.get(call_sid)
        if record is None or (unless_transferred and record.status == "transferred"):
            return
        dialplan = self._dialplans.named(record.dialplan)
        if dialplan is None:
            return
        notes = record.wrap_up = await wrap_up(record, dialplan, self._writer)
        used = usage_of(record)
        await self._store.set_wrap_up(call_sid, notes, used)
        metrics.call_used(used, notes.usage)
        if dialplan.after_call.webhook_url is None:
            return
        recording = self._recording_url(call_sid) if dialplan.recording.enabled else None
        body = payload(record, notes, recording)
        after = dialplan.after_call
        await self._store.outbox.enqueue(
            call_sid, after.webhook_url or "", after.webhook_secret_env, body
        )


async def deliver_due(outbox: SqlOutbox, http: aiohttp.ClientSession, backoff_s: float) -> int:
    """Try every due delivery once; returns how many were delivered."""
    delivered = 0
    for delivery in await outbox.due():
        error = await _post(http, delivery)
        attempts = delivery.attempts + 1
        if error is None:
            await outbox.delivered(delivery.id, attempts)
            delivered += 1
            continue
        retry_at = None
        if attempts < MAX_ATTEMPTS:
            retry_at = utcnow() + timedelta(seconds=backoff_s * 2 ** (attempts - 1))
        else:
            log.error("webhook for %s dead-lettered after %d tries", delivery.call_sid, attempts)
        await outbox.failed(delivery.id, attempts, retry_at, error)
    return delivered


async def _post(http: aiohttp.ClientSession, delivery: Delivery) -> str | None:
    """None when delivered, else why not."""
    key = os.environ.get(delivery.secret_env, "")
    if not key:
        return f"{delivery.secret_env} is not set: the webhook cannot be signed"
    headers = {
        "Content-Type": "application/json",
        "X-Bridge-Signature": signature(key, int(time.time()), delivery.body),
        "X-Bridge-Delivery": str(delivery.id),
    }
    try:
        async with asyncio.timeout(POST_TIMEOUT_S):
            async with http.post(delivery.url, data=delivery.body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
