"""The media socket's budget: a token bucket on a fake clock, and the closing thresholds;
the sources that handshake budgets are kept for."""

from __future__ import annotations

from bridge.twilio.admission import MAX_SOURCES, MediaAdmission, source_of
from bridge.twilio.limits import StreamGuard, StreamLimits, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_sustained_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=50, capacity=100, clock=clock)
    assert sum(bucket.take() for _ in range(150)) == 100
    clock.now += 1.0
    assert sum(bucket.take() for _ in range(150)) == 50


def test_bucket_never_saves_more_than_its_capacity() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=50, capacity=100, clock=clock)
    clock.now += 3600
    assert sum(bucket.take() for _ in range(1000)) == 100


def test_twilio_pace_never_touches_the_limit() -> None:
    clock = Clock()
    guard = StreamGuard(StreamLimits(), clock)
    for frame in range(50 * 600):  # ten minutes of 20 ms media, plus a mark echo a second
        clock.now = frame * 0.02
        assert guard.admit()
        if frame % 50 == 0:
            assert guard.admit()
    assert guard.over_rate == 0 and guard.closing_reason is None


def test_a_flood_is_dropped_then_closed() -> None:
    limits = StreamLimits(messages_per_s=10, burst=10, max_over_rate=5)
    guard = StreamGuard(limits, Clock())
    admitted = [guard.admit() for _ in range(16)]
    assert admitted == [True] * 10 + [False] * 6
    assert guard.closing_reason == "more than 5 frames over the rate limit"


def test_malformed_frames_close_past_the_threshold_only() -> None:
    guard = StreamGuard(StreamLimits(max_malformed=3), Clock())
    guard.malformed = 3
    assert guard.closing_reason is None
    guard.malformed = 4
    assert guard.closing_reason == "more than 3 malformed frames"


def test_an_ipv6_client_is_one_source_for_its_whole_slash_64() -> None:
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff::9")
    assert source_of("2001:db8:1:2::1") != source_of("2001:db8:1:3::1")
    assert source_of("::ffff:203.0.113.7") == source_of("203.0.113.7") == "203.0.113.7"


def test_past_the_table_of_sources_new_sources_share_one_budget() -> None:
    admission = MediaAdmission(StreamLimits(handshake_burst_per_source=1), clock=Clock())
    for n in range(MAX_SOURCES):
        assert admission.take_handshake(f"10.0.{n // 256}.{n % 256}")  # each spends its one
    assert admission.take_handshake("192.0.2.1")  # the crowd's one handshake...
    assert not admission.take_handshake("192.0.2.2")  # ...is spent for every newcomer
