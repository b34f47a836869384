"""The window the model sees and the system prompt built from the dialplan and the call."""

from __future__ import annotations

from bridge.agent.base import Message, ToolCall
from bridge.agent.conversation import system_prompt, window
from bridge.agent.llm.anthropic_provider import CALL_CONNECTED, to_anthropic_messages
from bridge.agent.llm.openai_provider import to_openai_messages
from bridge.dialplan.models import RecognitionSettings
from tests.agent.llm_rig import ACME, CONTEXT


def turns(count: int) -> list[Message]:
    history = [Message(role="agent", text="Hello")]
    for i in range(count):
        history += [Message(role="caller", text=f"q{i}"), Message(role="agent", text=f"a{i}")]
    return history


def test_system_prompt_is_voice_first_with_business_and_caller() -> None:
    prompt = system_prompt(ACME, CONTEXT)
    assert "never use markdown" in prompt
    assert "one question at a time" in prompt
    assert "Acme Outfitters" in prompt and "Portland" in prompt
    assert CONTEXT.caller in prompt
    assert "key it in on the phone's keypad, then press pound" in prompt  # DTMF offered


def test_system_prompt_names_the_callers_language() -> None:
    spanish = ACME.model_copy(
        update={"recognition": RecognitionSettings(model="base", language="es")}
    )
    assert "ISO 639-1 code 'es': answer in it" in system_prompt(spanish, CONTEXT)
    auto = ACME.model_copy(
        update={"recognition": RecognitionSettings(model="base", language="auto")}
    )
    assert "Answer in the language the caller speaks." in system_prompt(auto, CONTEXT)
    assert "language" not in system_prompt(ACME, CONTEXT)


def test_window_keeps_the_last_turns_and_starts_at_a_caller_message() -> None:
    kept = window(turns(10), max_turns=3, token_budget=10_000)
    assert [m.text for m in kept] == ["q7", "a7", "q8", "a8", "q9", "a9"]


def test_window_keeps_the_greeting_when_nothing_is_dropped() -> None:
    assert window(turns(2), max_turns=5, token_budget=10_000)[0].text == "Hello"


def test_window_drops_old_turns_past_the_token_budget_but_keeps_the_last() -> None:
    history = turns(3)
    history[-2] = Message(role="caller", text="x" * 4000)
    kept = window(history, max_turns=10, token_budget=100)
    assert kept[0].role == "caller" and kept[0].text.startswith("xxx")


def test_a_cut_agent_message_is_marked_as_interrupted_for_the_model() -> None:
    history = [
        Message(role="caller", text="hi"),
        Message(role="agent", text="Well", interrupted=True),
    ]
    assert "interrupted" in window(history, 5, 10_000)[-1].text


def test_unpaired_tool_calls_and_results_never_reach_the_apis() -> None:
    history = [
        Message(role="agent", text="Hello"),
        Message(role="caller", text="order 1 and 2"),
        Message(role="agent", tool_calls=[ToolCall(id="a", name="check_order_status")]),
        Message(role="tool", tool_call_id="a", text="{}"),
        Message(role="agent", tool_calls=[ToolCall(id="b", name="check_order_status")]),
        Message(role="tool", tool_call_id="zzz", text="{}"),
    ]
    openai_messages = to_openai_messages("sys", history)
    assert [m["role"] for m in openai_messages] == [
        "system",
        "assistant",
        "user",
        "assistant",
        "tool",
    ]
    anthropic_messages = to_anthropic_messages(history)
    assert anthropic_messages[0]["content"][0]["text"] == CALL_CONNECTED
    assert [m["role"] for m in anthropic_messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
