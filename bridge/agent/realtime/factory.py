"""What a realtime session is told at the start, from the dialplan (same prompt and tools)."""

from __future__ import annotations

from bridge.agent.base import CallContext
from bridge.agent.conversation import system_prompt
from bridge.agent.realtime.link import LinkConfig
from bridge.agent.tools import tool_specs
from bridge.dialplan.models import Dialplan

SPOKEN_STYLE = (
    "You are on a phone call: keep answers short and natural. Before you transfer the caller, "
    "tell them where you are sending them."
)


def link_config(dialplan: Dialplan, context: CallContext) -> LinkConfig:
    settings = dialplan.agent.realtime
    return LinkConfig(
        model=settings.model,
        instructions=f"{system_prompt(dialplan, context)}\n\n{SPOKEN_STYLE}",
        voice=settings.voice,
        tools=[
            {"name": spec.name, "description": spec.description, "parameters": spec.json_schema()}
            for spec in tool_specs(dialplan, outbound=context.outbound)
        ],
        turn_detection=settings.turn_detection,
        silence_ms=settings.silence_ms,
        transcription_model=settings.transcription_model,
        connect_timeout_s=settings.connect_timeout_ms / 1000,
    )
