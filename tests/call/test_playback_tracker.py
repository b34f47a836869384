from bridge.call.playback import PlaybackTracker, SpokenPiece


def piece(mark: str, text: str, audio_ms: float = 1000, reply: int = 1) -> SpokenPiece:
    return SpokenPiece(mark=mark, text=text, audio_ms=audio_ms, reply_id=reply)


def test_only_echoed_marks_count_as_heard() -> None:
    tracker = PlaybackTracker()
    tracker.sent(piece("a", "First sentence."), now_ms=0)
    tracker.sent(piece("b", "Second sentence."), now_ms=0)
    assert tracker.echoed("a", now_ms=1000)
    heard = tracker.take(1)
    assert heard.text == "First sentence."
    assert not heard.interrupted


def test_marks_out_of_order_or_unknown_are_ignored() -> None:
    tracker = PlaybackTracker()
    tracker.sent(piece("a", "One."), now_ms=0)
    tracker.sent(piece("b", "Two."), now_ms=0)
    assert not tracker.echoed("b", now_ms=10)
    assert not tracker.echoed("zzz", now_ms=10)
    assert tracker.playing
    assert tracker.take(1).text == ""


def test_barge_in_keeps_the_words_that_had_played_of_the_cut_piece() -> None:
    tracker = PlaybackTracker()
    tracker.sent(piece("a", "Your order has shipped.", audio_ms=1000), now_ms=0)
    tracker.sent(piece("b", "one two three four five six seven eight", audio_ms=2000), now_ms=0)
    tracker.echoed("a", now_ms=1000)
    tracker.interrupt(now_ms=2000)  # half of piece b played
    heard = tracker.take(1)
    assert heard.text == "Your order has shipped. one two three four"
    assert heard.interrupted
    assert not tracker.playing


def test_marks_echoed_after_a_clear_do_not_count() -> None:
    tracker = PlaybackTracker()
    tracker.sent(piece("a", "Never heard at all.", audio_ms=1000), now_ms=0)
    tracker.interrupt(now_ms=0)
    assert not tracker.echoed("a", now_ms=5)
    heard = tracker.take(1)
    assert heard.text == ""
    assert heard.interrupted


async def test_drained_waits_for_the_last_mark() -> None:
    tracker = PlaybackTracker()
    tracker.sent(piece("a", "Hi."), now_ms=0)
    assert not tracker._drained.is_set()
    tracker.echoed("a", now_ms=500)
    await tracker.drained()
    assert not tracker.playing


def test_a_mark_of_a_reply_already_closed_is_ignored() -> None:
    tracker = PlaybackTracker()
    tracker.sent(piece("a", "Old reply.", reply=1), now_ms=0)
    assert tracker.take(1).text == ""
    assert tracker.echoed("a", now_ms=100)
    tracker.sent(piece("b", "New reply.", reply=2), now_ms=100)
    tracker.echoed("b", now_ms=200)
    assert tracker.take(2).text == "New reply."
