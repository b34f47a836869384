from bridge.speech_eval.wer import normalise, number_words, wer, word_errors


def test_spelling_conventions_are_not_errors():
    assert normalise("Go forward 10 meters.") == "go forward ten meters".split()
    assert normalise("And Mr. Dashwood") == "and mister dashwood".split()
    assert normalise("ill-disposed, cold-hearted!") == "ill disposed cold hearted".split()
    assert normalise("order 4,572") == "order four thousand five hundred seventy two".split()
    assert normalise("code 0123") == "code zero one two three".split()


def test_numbers_are_spelled_as_they_are_read():
    assert number_words(0) == "zero"
    assert number_words(15) == "fifteen"
    assert number_words(90) == "ninety"
    assert number_words(407) == "four hundred seven"
    assert number_words(12_034) == "twelve thousand thirty four"


def test_each_kind_of_error_is_counted():
    errors = word_errors(
        "he was not an ill disposed young man", "he was an ill disposed old man man"
    )
    assert (errors.substitutions, errors.deletions, errors.insertions) == (1, 1, 1)
    assert errors.reference_words == 8


def test_corpus_wer_weighs_every_word_not_every_clip():
    pairs = [
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight nine ten",
        ),
        ("hello", "yellow"),
    ]
    assert wer(pairs) == 1 / 11
    assert wer([]) == 0.0


def test_digits_written_for_any_way_of_saying_them_are_heard_right():
    counting = "One two three four five six seven eight nine ten."
    assert word_errors(counting, "1-2-345-67-8-9-10.").total == 0
    assert word_errors("five five", "$55.").total == 0
    assert word_errors("order fifty seventy nine", "Order 5079.").total == 0
    assert word_errors("order five thousand seventy nine", "Order 5079.").total == 0
    assert word_errors("three three oh nine", "3309").total == 0


def test_digits_that_no_way_of_saying_matches_are_still_errors():
    errors = word_errors("order fifty seventy nine", "Order 57.99.")
    assert (errors.substitutions, errors.insertions) == (1, 1)
    assert word_errors("four three three three oh nine", "4 3 3 3 3 0 9").insertions == 1
    assert word_errors("five five", "$56.").substitutions == 1
