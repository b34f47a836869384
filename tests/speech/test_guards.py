from bridge.speech.guards import Segment, compression_ratio, judge, trim_loops


def test_a_phrase_looping_is_kept_once_and_the_rest_of_the_turn_stays():
    looped = "I want to " * 12 + "check my order"
    assert trim_loops(looped) == "I want to check my order"
    assert trim_loops("Thank you. " * 30 + "Bye.") == "Thank you. Bye."


def test_digits_said_several_times_are_not_a_loop():
    assert trim_loops("order five five five five one") == "order five five five five one"
    assert trim_loops("no no no") == "no no no"


def test_a_looping_transcript_is_kept_trimmed_but_marked_unsure():
    text, confidence = judge([Segment("Thank you. " * 20, -0.1, 0.01, 60)])
    assert text == "Thank you."
    assert confidence < 0.5
    assert compression_ratio("Thank you. " * 20) > 2.4


def test_a_segment_whisper_itself_thinks_was_no_speech_is_dropped():
    text, confidence = judge([Segment(" Bye!", -1.4, 0.9, 3)])
    assert (text, confidence) == ("", 0.0)
    kept, confidence = judge(
        [Segment(" I need billing.", -0.2, 0.02, 5), Segment(" Bye!", -1.4, 0.9, 3)]
    )
    assert kept == "I need billing." and confidence < 0.5


def test_confidence_follows_the_tokens_probability():
    sure = judge([Segment(" Billing please.", -0.1, 0.01, 4)])
    unsure = judge([Segment(" Bill and please.", -0.9, 0.3, 4)])
    assert sure[1] > 0.85 > unsure[1]
    assert judge([]) == ("", 1.0)
