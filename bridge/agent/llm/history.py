"""Make a conversation window valid for an LLM API before it is converted."""

from __future__ import annotations

from bridge.agent.base import Message


def paired_tool_messages(messages: list[Message]) -> list[Message]:
    """Drop tool calls without a result and results without a call.

    A barge-in or a failed round can leave either behind, and both APIs reject a
    conversation where a tool call and its result do not come as a pair.
    """
    call_ids = {call.id for m in messages if m.role == "agent" for call in m.tool_calls}
    result_ids = {m.tool_call_id for m in messages if m.role == "tool"}
    paired: list[Message] = []
    for message in messages:
        if message.role == "tool":
            if message.tool_call_id in call_ids:
                paired.append(message)
            continue
        if message.tool_calls:
            calls = [call for call in message.tool_calls if call.id in result_ids]
            if not calls and not message.text:
                continue
            message = message.model_copy(update={"tool_calls": calls})
        paired.append(message)
    return paired
