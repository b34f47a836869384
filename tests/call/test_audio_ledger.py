"""What of the model's audio the caller heard, by the marks: the truncate's `audio_end_ms`."""

from __future__ import annotations

from bridge.call.audio_ledger import AudioLedger, Cut


def send(ledger: AudioLedger, item_id: str, mark: str, ms: float) -> None:
    """A segment of `ms` sent at stream time 0, closed by `mark`."""
    ledger.sent(item_id, ms, now_ms=0.0)
    ledger.marked(mark)


def test_echoed_chunks_count_as_played_and_the_head_counts_its_time_until_the_barge_in() -> None:
    ledger = AudioLedger()
    for n in range(5):
        send(ledger, "item_1", f"a{n}", 100.0)
    ledger.echoed("a0", now_ms=100.0)
    ledger.echoed("a1", now_ms=200.0)
    assert ledger.interrupt(now_ms=260.0) == [Cut("item_1", 260)]
    assert not ledger.playing


def test_the_head_chunk_never_counts_for_more_than_its_length() -> None:
    ledger = AudioLedger()
    send(ledger, "item_1", "a0", 100.0)
    send(ledger, "item_1", "a1", 100.0)
    assert ledger.interrupt(now_ms=500.0) == [Cut("item_1", 100)]


def test_items_queued_behind_the_one_playing_are_cut_to_nothing() -> None:
    ledger = AudioLedger()
    send(ledger, "item_1", "a0", 100.0)
    send(ledger, "item_2", "a1", 100.0)
    assert ledger.interrupt(now_ms=40.0) == [Cut("item_1", 40), Cut("item_2", 0)]


def test_heard_text_is_the_words_that_fit_in_the_audio_played() -> None:
    ledger = AudioLedger()
    send(ledger, "item_1", "a0", 1000.0)
    ledger.item("item_1").text = "one two three four five six seven eight nine ten"
    ledger.interrupt(now_ms=500.0)
    assert ledger.item("item_1").heard() == "one two three four five"


def test_an_item_that_played_to_the_end_was_heard_whole_and_marks_out_of_order_are_ignored() -> (
    None
):
    ledger = AudioLedger()
    send(ledger, "item_1", "a0", 100.0)
    ledger.item("item_1").text = "All of it."
    ledger.echoed("elsewhere", now_ms=50.0)
    assert ledger.playing
    ledger.echoed("a0", now_ms=100.0)
    assert not ledger.playing and ledger.item("item_1").heard() == "All of it."
    assert ledger.interrupt(now_ms=150.0) == []


def test_audio_sent_before_its_mark_grows_one_segment_that_a_barge_in_can_cut() -> None:
    ledger = AudioLedger()
    ledger.sent("item_1", 100.0, now_ms=0.0)
    ledger.sent("item_1", 100.0, now_ms=0.0)
    assert ledger.open_segment() == ("item_1", 200.0)
    assert ledger.playing
    assert ledger.interrupt(now_ms=150.0) == [Cut("item_1", 150)]
