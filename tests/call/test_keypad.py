from bridge.call.keypad import KeyedEntry, Keypad
from bridge.dialplan.models import DtmfSettings, KeyAction

SETTINGS = DtmfSettings(keys={"0": KeyAction(transfer="support")}, inter_digit_timeout_ms=5000)


def test_a_mapped_key_pressed_on_its_own_acts_at_once() -> None:
    assert Keypad(SETTINGS).press("0", now_ms=100) == KeyAction(transfer="support")


def test_digits_ending_in_the_terminator_are_one_keyed_entry() -> None:
    keypad = Keypad(SETTINGS)
    presses = [keypad.press(d, now_ms=100 + i * 200) for i, d in enumerate("4500#")]
    assert presses == [None, None, None, None, KeyedEntry("4500")]


def test_a_mapped_key_inside_an_entry_is_just_a_digit() -> None:
    keypad = Keypad(SETTINGS)
    presses = [keypad.press(d, now_ms=100 + i * 200) for i, d in enumerate("100#")]
    assert presses[-1] == KeyedEntry("100")


def test_a_long_pause_starts_a_fresh_entry() -> None:
    keypad = Keypad(SETTINGS)
    keypad.press("9", now_ms=100)
    keypad.press("9", now_ms=200)
    assert keypad.press("7", now_ms=20_000) is None
    assert keypad.press("#", now_ms=20_200) == KeyedEntry("7")


def test_a_lone_terminator_is_nothing() -> None:
    assert Keypad(SETTINGS).press("#", now_ms=100) is None
