"""What the model is told: the voice-first system prompt, and the window of the conversation."""

from __future__ import annotations

from bridge.agent.base import CallContext, Message
from bridge.dialplan.models import Dialplan

VOICE_FIRST_PROMPT = (
    "You are the voice assistant answering the phone for {business}. Everything you write is "
    "spoken aloud by a text-to-speech voice on a phone call, so: answer in one to three short "
    "spoken sentences; never use markdown, lists, headings, emoji or URLs; ask one question at "
    "a time; say numbers the way a person would say them. Use the tools to look up orders, to "
    "transfer the caller to a department, and to end the call after saying goodbye. Never make "
    "up an order's status. If you cannot help, offer to transfer the caller."
)
_INTERRUPTED = " [the caller interrupted here]"


def system_prompt(dialplan: Dialplan, context: CallContext) -> str:
    """The dialplan's prompt (or the voice-first default) plus what we know about this call."""
    business = dialplan.business_name or dialplan.name
    parts = [dialplan.prompt or VOICE_FIRST_PROMPT.format(business=business)]
    if dialplan.business_info:
        parts.append(f"About {business}: {dialplan.business_info.strip()}")
    if dialplan.departments:
        parts.append("Departments you can transfer to: " + ", ".join(dialplan.departments) + ".")
    parts.append(f"The caller's number is {context.caller or 'unknown'}.")
    if dialplan.orders is not None:
        # The keypad beats speech for digits; and "order number" in the question puts the
        # caller's answer in digits mode (call/digits_mode.py).
        key = {"#": "pound", "*": "star"}.get(terminator := dialplan.dtmf.order_id_terminator)
        parts.append(
            "When you ask for an order number or a ZIP code, say the words 'order number' or "
            "'ZIP code', and tell the caller they can also key it in on the phone's keypad, "
            f"then press {key or terminator}."
        )
    language = dialplan.recognition.language
    if language == "auto":
        parts.append("Answer in the language the caller speaks.")
    elif language != "en":
        parts.append(f"Callers speak the language with ISO 639-1 code {language!r}: answer in it.")
    return "\n\n".join(parts)


def estimate_tokens(text: str) -> int:
    """About four characters a token: close enough to keep a window under budget."""
    return len(text) // 4 + 1


def message_tokens(message: Message) -> int:
    arguments = sum(len(str(call.arguments)) + len(call.name) for call in message.tool_calls)
    return estimate_tokens(message.text) + arguments // 4 + 4


def window(history: list[Message], max_turns: int, token_budget: int) -> list[Message]:
    """The last `max_turns` caller turns and what followed them, oldest dropped past the budget.

    The window always starts at a caller message (never at an orphaned tool result) and
    always keeps the latest caller turn. Agent messages a barge-in cut are marked so the
    model knows the caller did not hear the rest.
    """
    starts = [i for i, message in enumerate(history) if message.role == "caller"]
    if not starts:
        kept = list(history)
    else:
        kept_starts = starts[-max_turns:]
        total = sum(message_tokens(m) for m in history[kept_starts[0] :])
        while len(kept_starts) > 1 and total > token_budget:
            dropped = history[kept_starts[0] : kept_starts[1]]
            total -= sum(message_tokens(m) for m in dropped)
            kept_starts.pop(0)
        # Nothing dropped: keep the greeting that came before the first caller turn.
        kept = history[kept_starts[0] if kept_starts[0] != starts[0] else 0 :]
    return [
        message.model_copy(update={"text": message.text + _INTERRUPTED})
        if message.interrupted and message.role == "agent"
        else message
        for message in kept
    ]
