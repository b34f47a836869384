"""The call store's statements, in the SQL both SQLite and PostgreSQL accept (`?` placeholders)."""

from __future__ import annotations

# A call opened again (its webhook may have run on another instance) keeps its row; only the
# instance that now holds its media socket is written in.
INSERT_CALL = """
INSERT INTO calls (call_sid, stream_sid, from_number, to_number, dialplan, status, end_reason,
                   started_at, ended_at, instance_id, direction, outcome, answered_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_sid) DO UPDATE SET instance_id = excluded.instance_id
WHERE excluded.instance_id <> ''
"""

UPSERT_TURN = """
INSERT INTO turns (call_sid, idx, source, caller, agent, heard, interrupted, resumed, tools,
                   latency_ms, usage, started_at, speech_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_sid, idx) DO UPDATE SET
    source = excluded.source,
    caller = excluded.caller,
    agent = excluded.agent,
    heard = excluded.heard,
    interrupted = excluded.interrupted,
    resumed = excluded.resumed,
    tools = excluded.tools,
    latency_ms = excluded.latency_ms,
    usage = excluded.usage,
    started_at = excluded.started_at,
    speech_ms = excluded.speech_ms
"""

INSERT_ACTION = """
INSERT INTO twilio_actions (call_sid, method, path, params, ok, error, at)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

INSERT_LEG = """
INSERT INTO call_legs (call_sid, kind, department, target, status, sid, duration_s, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""

SELECT_LEGS = """
SELECT kind, department, target, status, sid, duration_s, at
FROM call_legs WHERE call_sid = ? ORDER BY id
"""

INSERT_WRITING = "INSERT INTO call_writings (call_sid, purpose, usage, at) VALUES (?, ?, ?, ?)"

SELECT_WRITINGS = "SELECT purpose, usage, at FROM call_writings WHERE call_sid = ? ORDER BY id"

# A transfer that was not answered gives the call back to the agent: active again, ready for
# a new media stream (the token's spend needs an empty stream_sid).
REOPEN_CALL = """
UPDATE calls SET status = 'active', stream_sid = '', end_reason = '', ended_at = NULL
WHERE call_sid = ? AND status = 'transferred'
"""

CALL_EXISTS = "SELECT 1 AS found FROM calls WHERE call_sid = ?"

SET_STREAM = "UPDATE calls SET stream_sid = ? WHERE call_sid = ?"

# Only an active call closes, which makes a second close keep the first outcome.
CLOSE_CALL = """
UPDATE calls SET status = ?, end_reason = ?, ended_at = ?
WHERE call_sid = ? AND status = 'active'
"""

# The first outcome known stays, unless replaced on purpose (a callee who opts out).
SET_OUTCOME = """
UPDATE calls SET outcome = ?
WHERE call_sid = ? AND direction = 'outbound' AND (outcome = '' OR ?)
"""

SET_ANSWERED_BY = "UPDATE calls SET answered_by = ? WHERE call_sid = ?"

INSERT_OUTBOUND = """
INSERT INTO outbound_requests (request_id, dialplan, to_number, from_number, variables,
                               call_sid, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

SET_OUTBOUND_CALL = "UPDATE outbound_requests SET call_sid = ? WHERE request_id = ?"

SELECT_OUTBOUND = """
SELECT request_id, dialplan, to_number, from_number, variables, call_sid, created_at
FROM outbound_requests WHERE request_id = ?
"""

CLOSE_INTERRUPTED = """
UPDATE calls SET status = 'interrupted', end_reason = ?, ended_at = ?
WHERE status = 'active'
"""

# With a shared database: only this instance's calls, and calls too old to be alive anywhere.
CLOSE_INTERRUPTED_OF_INSTANCE = """
UPDATE calls SET status = 'interrupted', end_reason = ?, ended_at = ?
WHERE status = 'active' AND (instance_id = ? OR started_at < ?)
"""

SELECT_CALL = """
SELECT call_sid, stream_sid, from_number, to_number, dialplan, status, end_reason,
       started_at, ended_at, instance_id, direction, outcome, answered_by, wrap_up,
       agent_speech_ms
FROM calls WHERE call_sid = ?
"""

SET_WRAP_UP = "UPDATE calls SET wrap_up = ?, usage = ? WHERE call_sid = ?"
ADD_AGENT_SPEECH = "UPDATE calls SET agent_speech_ms = agent_speech_ms + ? WHERE call_sid = ?"

SELECT_TURNS = """
SELECT idx, source, caller, agent, heard, interrupted, resumed, tools, latency_ms, usage,
       started_at, speech_ms
FROM turns WHERE call_sid = ? ORDER BY idx
"""

SELECT_ACTIONS = """
SELECT method, path, params, ok, error, at
FROM twilio_actions WHERE call_sid = ? ORDER BY id
"""

LIST_CALLS_HEAD = """
SELECT c.call_sid, c.from_number, c.to_number, c.dialplan, c.status, c.end_reason,
       c.started_at, c.ended_at, c.usage,
       (SELECT COUNT(*) FROM turns t WHERE t.call_sid = c.call_sid) AS turn_count
FROM calls c
"""

LIST_CALLS_TAIL = "ORDER BY c.started_at DESC, c.call_sid DESC LIMIT ? OFFSET ?"

# Filters of a listing; `\\` escapes LIKE wildcards in the number the user typed.
FILTER_NUMBER = "(c.from_number LIKE ? ESCAPE '\\' OR c.to_number LIKE ? ESCAPE '\\')"
FILTER_SINCE = "c.started_at >= ?"
FILTER_UNTIL = "c.started_at < ?"
FILTER_DIALPLAN = "c.dialplan = ?"
FILTER_STATUS = "c.status = ?"


def like_substring(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
