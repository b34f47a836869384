"""Order ids in transcripts: Whisper's digit forms, spoken digits, pairs and whole numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.agent.order_ids import keyed_order_id, order_id_candidates

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
TEENS += ["eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def say_below_hundred(n: int) -> str:
    if n < 10:
        return DIGIT_WORDS[n]
    if n < 20:
        return TEENS[n - 10]
    return TENS[n // 10] + ("-" + DIGIT_WORDS[n % 10] if n % 10 else "")


def say_below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [DIGIT_WORDS[hundreds], "hundred"] if hundreds else []
    if rest or not hundreds:
        words.append(say_below_hundred(rest))
    return " ".join(words)


def say_cardinal(n: int) -> str:
    """English for 1 <= n < 1,000,000, as a caller says it."""
    thousands, rest = divmod(n, 1000)
    words = [say_below_thousand(thousands), "thousand"] if thousands else []
    if rest:
        words.append(say_below_thousand(rest))
    return " ".join(words)


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        ("4572", "4572"),
        ("My order number is 4,572.", "4572"),
        ("It's 813-906.", "813906"),
        ("88,310", "88310"),
        ("Order #4572 please", "4572"),
        ("four five seven two", "4572"),
        ("Four, five, seven, two.", "4572"),
        ("forty five seventy two", "4572"),
        ("forty-five seventy-two", "4572"),
        ("eight one three nine oh six", "813906"),
        ("double five one two", "5512"),
        ("seven triple oh one", "70001"),
        ("eighty-eight thousand three hundred ten", "88310"),
        ("four thousand five hundred and seventy two", "4572"),
        ("forty five hundred", "4500"),
        ("Order number four five, uh, seven two.", "4572"),
        ("4 5 7 2", "4572"),
        ("Oh, it's 4572", "4572"),
        ("Oh four five one", "0451"),
        ("Order 80 8 14 60.", "881460"),  # Whisper's way with "eighty eight fourteen sixty"
        ("It's 8 0 8 1.", "8081"),
    ],
)
def test_transcript_yields_the_order_id_first(transcript: str, expected: str) -> None:
    assert order_id_candidates(transcript)[0] == expected


def test_separate_numbers_are_separate_candidates_in_order() -> None:
    transcript = "I bought 2 shirts for 120 dollars, order 4572"
    assert order_id_candidates(transcript) == ["120", "4572"]


def test_numbers_said_back_to_back_also_offer_each_group() -> None:
    assert order_id_candidates("4572 90210") == ["457290210", "4572", "90210"]


@pytest.mark.parametrize("transcript", ["", "where is my order", "press one", "the blue one", "2"])
def test_no_candidate_without_enough_digits(transcript: str) -> None:
    assert order_id_candidates(transcript) == []


def test_digit_limits_are_honoured() -> None:
    assert order_id_candidates("12 and 123456", min_digits=2, max_digits=4) == ["12"]


def test_keyed_digits_drop_star_and_pound() -> None:
    assert keyed_order_id("4572#") == "4572"
    assert keyed_order_id("*#") is None


@given(st.integers(min_value=100, max_value=999_999_999))
def test_whisper_digits_with_or_without_thousands_separators(n: int) -> None:
    assert order_id_candidates(f"the order is {n}.")[0] == str(n)
    assert order_id_candidates(f"the order is {n:,}.")[0] == str(n)


@given(st.text(alphabet="0123456789", min_size=3, max_size=10), st.booleans())
def test_any_id_spoken_digit_by_digit(order_id: str, zero_as_oh: bool) -> None:
    zero = "oh" if zero_as_oh else "zero"
    spoken = " ".join(zero if d == "0" else DIGIT_WORDS[int(d)] for d in order_id)
    assert order_id_candidates(f"yes it's {spoken} thanks") == [order_id]


@given(st.integers(min_value=100, max_value=999_999))
def test_any_id_spoken_as_one_number(n: int) -> None:
    assert order_id_candidates(f"it's {say_cardinal(n)}") == [str(n)]


@given(st.lists(st.integers(min_value=10, max_value=99), min_size=2, max_size=4))
def test_any_id_spoken_in_pairs(pairs: list[int]) -> None:
    spoken = " ".join(say_below_hundred(pair) for pair in pairs)
    assert order_id_candidates(spoken) == ["".join(str(pair) for pair in pairs)]


@pytest.mark.parametrize(
    ("heard", "order_id"),
    [
        ("7.2. Double 5.", "7255"),  # full stops between digits said slowly
        ("Where's my order for 572?", "4572"),  # "four" written as "for"
        ("It's for 5 7 2.", "4572"),
        ("order 4 5 to 7", "4527"),  # "two" written as "to"
        ("Order 965-08.", "96508"),
    ],
)
def test_ids_read_the_way_the_recogniser_writes_them(heard: str, order_id: str) -> None:
    assert order_id_candidates(heard)[0] == order_id


@pytest.mark.parametrize(
    "heard", ["I want to talk to billing", "transfer me to 1", "Thanks for calling. 42 is fine."]
)
def test_for_and_to_stay_words_outside_a_digit_string(heard: str) -> None:
    assert order_id_candidates(heard) == []


@pytest.mark.parametrize(
    ("heard", "candidates"),
    [
        ("Has order 457 to shipped yet.", ["457", "4572"]),  # "4 5 7 2 shipped"
        ("It's 813 for you.", ["813", "8134"]),
    ],
)
def test_a_to_or_for_after_the_digits_is_tried_as_their_last_digit_after_them(
    heard: str, candidates: list[str]
) -> None:
    assert order_id_candidates(heard) == candidates
