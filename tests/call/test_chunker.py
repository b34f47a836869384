"""SentenceChunker: pieces come out as soon as they can be spoken, never cut mid-number."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.call.chunker import SentenceChunker


def chunk_stream(deltas: list[str], **kwargs: int) -> list[str]:
    chunker = SentenceChunker(**kwargs)
    pieces: list[str] = []
    for delta in deltas:
        pieces += chunker.push(delta)
    return pieces + chunker.flush()


def chars(text: str) -> list[str]:
    return list(text)


def test_first_sentence_is_released_before_the_reply_ends() -> None:
    chunker = SentenceChunker()
    out = chunker.push("Sure thing. I am ")
    assert out == ["Sure thing."]
    assert chunker.push("checking now") == []
    assert chunker.flush() == ["I am checking now"]


def test_sentence_end_waits_for_the_next_character() -> None:
    chunker = SentenceChunker()
    assert chunker.push("It costs 4.") == []
    assert chunker.push("5 dollars. Then") == ["It costs 4.5 dollars."]


def test_numbers_money_and_abbreviations_are_not_cut() -> None:
    text = "Dr. Smith said it costs $3.50, e.g. at 5 p.m. tomorrow. Visit shop.example.com today!"
    assert chunk_stream(chars(text), first_piece_chars=1000, max_piece_chars=1000) == [
        "Dr. Smith said it costs $3.50, e.g. at 5 p.m. tomorrow.",
        "Visit shop.example.com today!",
    ]


def test_maybe_abbreviation_ends_a_sentence_before_a_capital() -> None:
    pieces = chunk_stream(chars("We open at 9 a.m. Please call then."), first_piece_chars=1000)
    assert pieces == ["We open at 9 a.m.", "Please call then."]


def test_long_first_sentence_is_cut_at_a_clause_for_fast_first_audio() -> None:
    text = "Thanks for waiting, I found your order and it left our warehouse this morning, so "
    text += "it should arrive on Friday."
    pieces = chunk_stream(chars(text))
    assert pieces[0] == "Thanks for waiting,"
    assert " ".join(pieces) == text


def test_a_long_first_sentence_that_arrives_whole_is_cut_at_its_first_clause() -> None:
    text = "Order 4 5 7 2, your camping stove, shipped with UPS and should arrive by Friday. "
    text += "Is there anything else I can help with?"
    assert chunk_stream([text]) == [
        "Order 4 5 7 2,",
        "your camping stove, shipped with UPS and should arrive by Friday.",
        "Is there anything else I can help with?",
    ]
    assert chunk_stream(["Sure. What's your order number? You can say it."]) == [
        "Sure.",
        "What's your order number?",
        "You can say it.",
    ]


def test_later_run_on_sentences_are_cut_only_when_very_long() -> None:
    first = "Okay. "
    second = "It is on the truck, it will arrive soon, and you will get a text when it does."
    assert chunk_stream(chars(first + second)) == ["Okay.", second]


def test_text_without_any_punctuation_is_cut_at_a_space_when_far_too_long() -> None:
    words = " ".join(["word"] * 100)
    pieces = chunk_stream(chars(words), max_piece_chars=50)
    assert len(pieces) > 1
    assert all(len(piece) <= 80 for piece in pieces)
    assert " ".join(pieces) == words


def test_markup_only_pieces_are_dropped() -> None:
    assert chunk_stream(["Which one?", "\n", "**", "\n", "The blue one."]) == [
        "Which one?",
        "The blue one.",
    ]


@given(st.text(alphabet="ab ,.!?\n$4:", max_size=200), st.integers(1, 20))
def test_pieces_keep_every_word_character_in_order(text: str, step: int) -> None:
    deltas = [text[i : i + step] for i in range(0, len(text), step)]
    pieces = chunk_stream(deltas)
    assert [ch for ch in "".join(pieces) if ch.isalnum()] == [ch for ch in text if ch.isalnum()]
    assert all(piece == piece.strip() and any(ch.isalnum() for ch in piece) for piece in pieces)
