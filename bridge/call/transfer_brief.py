"""What the human hears before taking a warm transfer: who wants what, in a sentence or two,
by the dialplan's LLM when it has one, from the record by rules otherwise."""

from __future__ import annotations

from bridge.call.llm_writer import LlmWriter
from bridge.dialplan.models import Dialplan
from bridge.records import CallRecord, TurnUsage

MAX_BRIEF_CHARS = 600  # read aloud by <Say>: about 40 seconds at most

BRIEF_SYSTEM = (
    "You brief a person about to take a phone call that an automated assistant is "
    "transferring to them. In at most two short sentences, to be read aloud, say what the "
    "caller wants and what was already done. No greeting, no lists, no markdown."
)


def said_lines(record: CallRecord) -> list[str]:
    """What the caller said (not "(silence)" or "(key 1)")."""
    return [t.caller for t in record.turns if t.caller and not t.caller.startswith("(")]


def conversation_text(record: CallRecord) -> str:
    """The call as lines an LLM reads: what the caller said and what they heard."""
    lines = []
    for turn in record.turns:
        if turn.caller:
            lines.append(f"Caller: {turn.caller}")
        for tool in turn.tools:
            lines.append(f"(assistant ran {tool.name} {tool.arguments} -> {tool.result})")
        if turn.heard:
            lines.append(f"Assistant: {turn.heard}")
    return "\n".join(lines) or "(nothing was said)"


def rules_brief(record: CallRecord | None, department: str, reason: str) -> str:
    parts = [f"A caller for {department.replace('_', ' ')}."]
    if reason:
        parts.append(f"Reason: {reason.rstrip('.')}.")
    if record is not None:
        said = said_lines(record)
        if said:
            parts.append(f"They said: {' / '.join(said[-3:])[:300]}.")
        orders = [
            str(tool.arguments.get("order_id", ""))
            for turn in record.turns
            for tool in turn.tools
            if tool.name == "check_order_status" and tool.arguments.get("order_id")
        ]
        if orders:
            parts.append(f"The assistant looked up order {orders[-1]}.")
    return " ".join(parts)


async def transfer_brief(
    writer: LlmWriter | None,
    dialplan: Dialplan,
    record: CallRecord | None,
    department: str,
    reason: str,
) -> tuple[str, TurnUsage | None]:
    """The brief, and what writing it cost (None: written by rules)."""
    if writer is not None and record is not None:
        prompt = (
            f"Transferred to: {department}. Reason given: {reason or 'none'}.\n"
            f"The call so far:\n{conversation_text(record)}"
        )
        written = await writer.write(dialplan, BRIEF_SYSTEM, prompt, max_tokens=120, timeout_s=6.0)
        if written is not None:
            return written.text[:MAX_BRIEF_CHARS], written.usage
    return rules_brief(record, department, reason), None
