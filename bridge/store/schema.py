"""Versioned schema of the call store, shared by SQLite and PostgreSQL.

Migrations are append-only: never edit a released one, add the next number instead.
Type tokens (`{ts}`, `{json}`, `{id_pk}`) are rendered by the dialect.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    statements: tuple[str, ...]


CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at {ts} NOT NULL
)
"""

CURRENT_VERSION = "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version"

RECORD_VERSION = "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        statements=(
            """
            CREATE TABLE calls (
                call_sid TEXT PRIMARY KEY,
                stream_sid TEXT NOT NULL DEFAULT '',
                from_number TEXT NOT NULL DEFAULT '',
                to_number TEXT NOT NULL DEFAULT '',
                dialplan TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL,
                end_reason TEXT NOT NULL DEFAULT '',
                started_at {ts} NOT NULL,
                ended_at {ts}
            )
            """,
            "CREATE INDEX calls_started_at ON calls (started_at)",
            "CREATE INDEX calls_status ON calls (status)",
            """
            CREATE TABLE turns (
                call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,
                idx INTEGER NOT NULL,
                source TEXT NOT NULL,
                caller TEXT NOT NULL DEFAULT '',
                agent TEXT NOT NULL DEFAULT '',
                heard TEXT NOT NULL DEFAULT '',
                interrupted BOOLEAN NOT NULL DEFAULT FALSE,
                tools {json} NOT NULL,
                latency_ms {json} NOT NULL,
                usage {json},
                started_at {ts} NOT NULL,
                PRIMARY KEY (call_sid, idx)
            )
            """,
            """
            CREATE TABLE twilio_actions (
                id {id_pk},
                call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                params {json} NOT NULL,
                ok BOOLEAN NOT NULL,
                error TEXT NOT NULL DEFAULT '',
                at {ts} NOT NULL
            )
            """,
            "CREATE INDEX twilio_actions_call ON twilio_actions (call_sid, id)",
        ),
    ),
    Migration(
        version=2,
        statements=(
            # Several bridges may share one database: each call names the one holding it.
            "ALTER TABLE calls ADD COLUMN instance_id TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        version=3,
        statements=(
            # What the trust checks share across instances (bridge/store/trust.py).
            """
            CREATE TABLE revoked_sessions (
                nonce TEXT PRIMARY KEY,
                expires_at {ts} NOT NULL
            )
            """,
            """
            CREATE TABLE verification_failures (
                id {id_pk},
                subject TEXT NOT NULL,
                at {ts} NOT NULL
            )
            """,
            "CREATE INDEX verification_failures_subject ON verification_failures (subject, at)",
        ),
    ),
    Migration(
        version=4,
        statements=(
            # Times a reply came back after a false interruption (a cough over the agent).
            "ALTER TABLE turns ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        version=5,
        statements=(
            # Transfers that came back: each <Dial> outcome, and the caller back with the agent.
            """
            CREATE TABLE call_legs (
                id {id_pk},
                call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                department TEXT NOT NULL DEFAULT '',
                target TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT '',
                sid TEXT NOT NULL DEFAULT '',
                duration_s INTEGER NOT NULL DEFAULT 0,
                at {ts} NOT NULL
            )
            """,
            "CREATE INDEX call_legs_call ON call_legs (call_sid, id)",
        ),
    ),
    Migration(
        version=6,
        statements=(
            # Outbound calls (issue 15): their direction, what came of them, and the requests
            # the voice webhook of each is matched to.
            "ALTER TABLE calls ADD COLUMN direction TEXT NOT NULL DEFAULT 'inbound'",
            "ALTER TABLE calls ADD COLUMN outcome TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE calls ADD COLUMN answered_by TEXT NOT NULL DEFAULT ''",
            """
            CREATE TABLE outbound_requests (
                request_id TEXT PRIMARY KEY,
                dialplan TEXT NOT NULL,
                to_number TEXT NOT NULL,
                from_number TEXT NOT NULL,
                variables {json} NOT NULL,
                call_sid TEXT NOT NULL DEFAULT '',
                created_at {ts} NOT NULL
            )
            """,
            "CREATE INDEX outbound_requests_call ON outbound_requests (call_sid)",
        ),
    ),
    Migration(
        version=7,
        statements=(
            # After-call webhooks, kept until delivered (or dead-lettered) across restarts.
            """
            CREATE TABLE webhook_deliveries (
                id {id_pk},
                call_sid TEXT NOT NULL,
                url TEXT NOT NULL,
                secret_env TEXT NOT NULL DEFAULT '',
                body TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at {ts} NOT NULL,
                last_error TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at)",
        ),
    ),
    Migration(
        version=8,
        statements=(
            # Campaigns (issue 15): contacts are claimed in transactions, so no contact is
            # dialled twice by a crash or by two instances sharing the database. A call's
            # final status from Twilio frees its place under a campaign's live-call cap.
            "ALTER TABLE calls ADD COLUMN twilio_status TEXT NOT NULL DEFAULT ''",
            """
            CREATE TABLE campaigns (
                campaign_id TEXT PRIMARY KEY,
                settings {json} NOT NULL,
                status TEXT NOT NULL,
                last_dial_at {ts},
                created_at {ts} NOT NULL
            )
            """,
            """
            CREATE TABLE campaign_contacts (
                campaign_id TEXT NOT NULL REFERENCES campaigns (campaign_id) ON DELETE CASCADE,
                row_no INTEGER NOT NULL,
                phone TEXT NOT NULL,
                variables {json} NOT NULL,
                time_zones TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at {ts} NOT NULL,
                outcome TEXT NOT NULL DEFAULT '',
                call_sid TEXT NOT NULL DEFAULT '',
                call_sids {json} NOT NULL,
                claimed_by TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (campaign_id, row_no)
            )
            """,
            "CREATE INDEX campaign_contacts_due ON campaign_contacts (campaign_id, state, next_at)",
            """
            CREATE TABLE do_not_call (
                phone TEXT PRIMARY KEY,
                source TEXT NOT NULL DEFAULT '',
                added_at {ts} NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=9,
        statements=(
            # Warm transfers in flight (issue 14): read by whichever instance gets the
            # human leg's webhooks.
            """
            CREATE TABLE warm_transfers (
                transfer_id TEXT PRIMARY KEY,
                call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,
                dialplan TEXT NOT NULL,
                department TEXT NOT NULL,
                target TEXT NOT NULL,
                conference TEXT NOT NULL,
                human_call_sid TEXT NOT NULL DEFAULT '',
                brief TEXT NOT NULL DEFAULT '',
                state TEXT NOT NULL,
                created_at {ts} NOT NULL
            )
            """,
            "CREATE INDEX warm_transfers_call ON warm_transfers (call_sid)",
        ),
    ),
    Migration(
        version=10,
        statements=(
            # The post-call step's summary, disposition and fields (issue 14).
            "ALTER TABLE calls ADD COLUMN wrap_up {json}",
        ),
    ),
    Migration(
        version=11,
        statements=(
            # Usage per call (issue 14): the caller's speaking time per turn, the agent's
            # heard time per call, and the call's totals once it is over (for listings).
            "ALTER TABLE turns ADD COLUMN speech_ms INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE calls ADD COLUMN agent_speech_ms INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE calls ADD COLUMN usage {json}",
        ),
    ),
    Migration(
        version=12,
        statements=(
            # LLM work for a call outside its turns (a warm transfer's brief), so its tokens
            # count in the call's usage whichever instance wrote it.
            """
            CREATE TABLE call_writings (
                id {id_pk},
                call_sid TEXT NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,
                purpose TEXT NOT NULL,
                usage {json} NOT NULL,
                at {ts} NOT NULL
            )
            """,
            "CREATE INDEX call_writings_call ON call_writings (call_sid, id)",
        ),
    ),
)
