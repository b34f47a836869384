"""Per-call media tokens: bound to one call, expiring, single use, tamper-proof."""

from __future__ import annotations

import pytest

from bridge.config import Settings
from bridge.twilio.signature import CallTokens, TokenError

CALL = "CA" + "1" * 32
OTHER = "CA" + "2" * 32


class Clock:
    """A settable wall clock, so expiry is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> CallTokens:
    return CallTokens(b"k" * 32, ttl_s=60, clock=clock)


def refused(tokens: CallTokens, token: str, call_sid: str) -> str:
    with pytest.raises(TokenError) as caught:
        tokens.redeem(token, call_sid)
    return caught.value.reason


def test_issued_token_redeems_for_its_call(tokens: CallTokens) -> None:
    token = tokens.issue(CALL)
    assert len(token) < 400
    assert all(c.isalnum() or c in "-_." for c in token)
    tokens.redeem(token, CALL)


def test_token_for_another_call_is_refused(tokens: CallTokens) -> None:
    assert refused(tokens, tokens.issue(CALL), OTHER) == "token belongs to another call"


def test_expired_token_is_refused(tokens: CallTokens, clock: Clock) -> None:
    token = tokens.issue(CALL)
    clock.now += 61
    assert refused(tokens, token, CALL) == "token expired"


def test_replayed_token_is_refused(tokens: CallTokens) -> None:
    token = tokens.issue(CALL)
    tokens.redeem(token, CALL)
    assert refused(tokens, token, CALL) == "token already used"


def test_used_nonces_are_forgotten_once_expired(clock: Clock) -> None:
    tokens = CallTokens(b"k" * 32, ttl_s=60, max_live=2, clock=clock)
    tokens.redeem(tokens.issue(CALL), CALL)
    tokens.redeem(tokens.issue(CALL), CALL)
    assert refused(tokens, tokens.issue(CALL), CALL) == "too many live tokens"
    clock.now += 61
    tokens.redeem(tokens.issue(CALL), CALL)


@pytest.mark.parametrize("part", [0, 1, 2, 3])
def test_tampered_token_is_refused(tokens: CallTokens, part: int) -> None:
    pieces = tokens.issue(CALL).split(".")
    # The first character carries six data bits (the last one may carry only padding bits).
    original = pieces[part]
    pieces[part] = ("B" if original[0] == "A" else "A") + original[1:]
    reason = refused(tokens, ".".join(pieces), CALL)
    assert reason in ("bad signature", "malformed token")


def test_extended_expiry_is_refused(tokens: CallTokens) -> None:
    sid, expiry, nonce, mac = tokens.issue(CALL).split(".")
    assert refused(tokens, f"{sid}.{int(expiry) + 3600}.{nonce}.{mac}", CALL) == "bad signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c.d", "a.b.c.d.e", "Q0E.x.y.z"])
def test_garbage_token_is_refused(tokens: CallTokens, token: str) -> None:
    assert refused(tokens, token, CALL) in ("malformed token", "bad signature")


def test_token_from_another_secret_is_refused(clock: Clock) -> None:
    theirs = CallTokens(b"x" * 32, ttl_s=60, clock=clock)
    ours = CallTokens(b"k" * 32, ttl_s=60, clock=clock)
    assert refused(ours, theirs.issue(CALL), CALL) == "bad signature"


def test_secret_from_auth_token_is_shared_across_instances() -> None:
    settings = Settings(_env_file=None, TWILIO_AUTH_TOKEN="tok")  # type: ignore[call-arg]
    CallTokens.from_settings(settings).redeem(CallTokens.from_settings(settings).issue(CALL), CALL)


def test_random_secret_without_auth_token_differs_per_instance() -> None:
    settings = Settings(_env_file=None, TWILIO_AUTH_TOKEN="")  # type: ignore[call-arg]
    token = CallTokens.from_settings(settings).issue(CALL)
    assert refused(CallTokens.from_settings(settings), token, CALL) == "bad signature"
