"""Per-call media tokens: they bind the signed webhook's identity, expire, and are tamper-proof.
Spending them once across instances is proven over HTTP in tests/security/test_media_tokens.py."""

from __future__ import annotations

import pytest

from bridge.config import Settings
from bridge.twilio.tokens import CallIdentity, CallTokens, TokenError

CALL = "CA" + "1" * 32
OTHER = "CA" + "2" * 32
IDENTITY = CallIdentity(CALL, "+15555550123", "+15555550100", "acme")


class Clock:
    """A settable wall clock, so expiry is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


async def spend_always(call_sid: str, stream_sid: str) -> bool:
    return True


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> CallTokens:
    return CallTokens(b"k" * 32, spend_always, ttl_s=60, clock=clock)


def refused(tokens: CallTokens, token: str, call_sid: str = CALL) -> str:
    with pytest.raises(TokenError) as caught:
        tokens.verify(token, call_sid)
    return caught.value.reason


def test_issued_token_carries_the_webhooks_identity(tokens: CallTokens) -> None:
    token = tokens.issue(IDENTITY)
    assert len(token) < 400
    assert all(c.isalnum() or c in "-_." for c in token)
    assert tokens.verify(token, CALL) == IDENTITY


def test_token_for_another_call_is_refused(tokens: CallTokens) -> None:
    assert refused(tokens, tokens.issue(IDENTITY), OTHER) == "token belongs to another call"


def test_expired_token_is_refused(tokens: CallTokens, clock: Clock) -> None:
    token = tokens.issue(IDENTITY)
    clock.now += 61
    assert refused(tokens, token) == "token expired"


async def test_a_token_the_store_says_is_spent_is_refused(clock: Clock) -> None:
    async def spent(call_sid: str, stream_sid: str) -> bool:
        return False

    tokens = CallTokens(b"k" * 32, spent, ttl_s=60, clock=clock)
    with pytest.raises(TokenError) as caught:
        await tokens.redeem(tokens.issue(IDENTITY), CALL, "MZ1")
    assert caught.value.reason == "the call has ended or its stream already started"


@pytest.mark.parametrize("part", [0, 1])
def test_tampered_token_is_refused(tokens: CallTokens, part: int) -> None:
    pieces = tokens.issue(IDENTITY).split(".")
    original = pieces[part]
    pieces[part] = ("B" if original[0] == "A" else "A") + original[1:]
    assert refused(tokens, ".".join(pieces)) in ("bad signature", "malformed token")


def test_another_callers_number_cannot_be_written_into_a_token(tokens: CallTokens) -> None:
    import base64
    import json

    payload, mac = tokens.issue(IDENTITY).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["caller"] = "+15035550142"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(tokens, f"{forged}.{mac}") == "bad signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "Q0E.x"])
def test_garbage_token_is_refused(tokens: CallTokens, token: str) -> None:
    assert refused(tokens, token) in ("malformed token", "bad signature")


def test_token_from_another_secret_is_refused(clock: Clock) -> None:
    theirs = CallTokens(b"x" * 32, spend_always, ttl_s=60, clock=clock)
    ours = CallTokens(b"k" * 32, spend_always, ttl_s=60, clock=clock)
    assert refused(ours, theirs.issue(IDENTITY)) == "bad signature"


def test_secret_from_auth_token_is_shared_across_instances() -> None:
    settings = Settings(_env_file=None, TWILIO_AUTH_TOKEN="tok")  # type: ignore[call-arg]
    issued = CallTokens.from_settings(settings, spend_always).issue(IDENTITY)
    assert CallTokens.from_settings(settings, spend_always).verify(issued, CALL) == IDENTITY


def test_random_secret_without_auth_token_differs_per_instance() -> None:
    settings = Settings(_env_file=None, TWILIO_AUTH_TOKEN="")  # type: ignore[call-arg]
    token = CallTokens.from_settings(settings, spend_always).issue(IDENTITY)
    assert refused(CallTokens.from_settings(settings, spend_always), token) == "bad signature"
