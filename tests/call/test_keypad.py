from bridge.call.keypad import HeldKey, KeyedEntry, Keypad, asks_for_keyed_entry
from bridge.dialplan.models import DtmfSettings, KeyAction

SETTINGS = DtmfSettings(keys={"0": KeyAction(transfer="support")}, inter_digit_timeout_ms=5000)


def test_a_mapped_key_without_a_pause_acts_at_once() -> None:
    settings = SETTINGS.model_copy(update={"key_pause_ms": 0})
    assert Keypad(settings).press("0", now_ms=100) == KeyAction(transfer="support")


def test_a_mapped_key_is_held_and_acts_when_no_key_follows() -> None:
    keypad = Keypad(SETTINGS)
    held = keypad.press("0", now_ms=100)
    assert isinstance(held, HeldKey)
    assert keypad.release(held) == KeyAction(transfer="support")


def test_a_held_key_followed_by_another_key_starts_an_entry() -> None:
    keypad = Keypad(SETTINGS)
    held = keypad.press("0", now_ms=100)
    assert isinstance(held, HeldKey)
    keypad.press("7", now_ms=300)
    assert keypad.release(held) is None
    assert keypad.press("#", now_ms=500) == KeyedEntry("07")


def test_keys_are_digits_while_a_keyed_entry_is_expected() -> None:
    keypad = Keypad(SETTINGS)
    keypad.entry_expected = True
    assert keypad.press("0", now_ms=100) is None
    assert keypad.press("#", now_ms=300) == KeyedEntry("0")
    assert not keypad.entry_expected


def test_the_agent_asking_for_keys_is_recognised() -> None:
    assert asks_for_keyed_entry("Please key in your order number, then press pound.")
    assert asks_for_keyed_entry("Enter your order number followed by the hash key.")
    assert not asks_for_keyed_entry("Your order ships today. Anything else?")


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
