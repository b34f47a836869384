"""What the LLM agent tests share: the fake LLM, the fake Twilio API and the Acme line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.agent.base import (
    Agent,
    AgentEvent,
    CallContext,
    CallerTurn,
    Message,
    TextDelta,
    ToolEvent,
    Usage,
)
from bridge.agent.factory import LlmClients, build_agent
from bridge.agent.orders import open_order_lookup
from bridge.agent.tools import ToolExecutor
from bridge.agent.tools_outbound import OptOutList
from bridge.config import Settings
from bridge.dialplan.agent_settings import AgentSettings
from bridge.dialplan.loader import load_dialplans
from bridge.dialplan.models import Dialplan
from bridge.sim.fake_llm import FakeLlm
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.twilio.rest import TwilioCallControl, close_twilio_client, make_twilio_client

DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans"
ACME = load_dialplans(DIALPLANS).for_number("+15555550100")
CALL_SID = "CA" + "1" * 32
CONTEXT = CallContext(call_sid=CALL_SID, caller="+15035550142", called="+15555550100")
ACCOUNT = "AC" + "0" * 32


def acme(**agent: Any) -> Dialplan:
    """The Acme line with these `agent:` settings (fast budgets unless given)."""
    agent = {"request_timeout_ms": 1000, "turn_latency_budget_ms": 3000, **agent}
    return ACME.model_copy(update={"agent": AgentSettings(**agent)})


def llm_settings(
    fake: FakeLlm, twilio: FakeTwilioApi, *, anthropic: bool = True, keys: bool = True
) -> Settings:
    """Both providers on the fake; without `keys`, configured by their base URLs alone."""
    env: dict[str, Any] = {
        "OPENAI_BASE_URL": fake.openai_base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_API_BASE_URL": twilio.url,
    }
    if anthropic:
        env |= {"ANTHROPIC_BASE_URL": fake.url}
    if keys:
        env |= {"OPENAI_API_KEY": "sk-test"}
        if anthropic:
            env |= {"ANTHROPIC_API_KEY": "sk-ant-test"}
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


@dataclass
class Reply:
    events: list[AgentEvent] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, TextDelta))

    @property
    def tools(self) -> list[ToolEvent]:
        return [e for e in self.events if isinstance(e, ToolEvent)]

    @property
    def usage(self) -> list[Usage]:
        return [e for e in self.events if isinstance(e, Usage)]


class Line:
    """One call's agent, wired to the fakes exactly as the call session wires it."""

    def __init__(
        self,
        fake: FakeLlm,
        twilio: FakeTwilioApi,
        dialplan: Dialplan,
        *,
        context: CallContext = CONTEXT,
        opt_outs: OptOutList | None = None,
        **kw: Any,
    ):
        self.settings = llm_settings(fake, twilio, **kw)
        self.twilio_client = make_twilio_client(self.settings)
        control = TwilioCallControl(
            self.twilio_client, CALL_SID, dial_action_url="https://bridge.test/dial", attempts=1
        )
        orders = open_order_lookup(dialplan.orders)
        self.tools = ToolExecutor(dialplan, control, orders, context, opt_outs=opt_outs)
        self.clients = LlmClients(self.settings)
        self.agent: Agent = build_agent(dialplan, self.settings, self.tools, context, self.clients)
        self.history: list[Message] = [Message(role="agent", text=dialplan.greeting)]

    async def say(self, text: str, confidence: float = 1.0) -> Reply:
        """The caller says `text`; the reply is appended as the session would (all heard)."""
        self.history.append(Message(role="caller", text=text))
        reply = Reply()
        turn = CallerTurn(text=text, confidence=confidence)
        async for event in self.agent.respond(list(self.history), turn):
            reply.events.append(event)
            if isinstance(event, ToolEvent):
                self.history += event.messages
        self.history.append(Message(role="agent", text=reply.text))
        return reply

    async def close(self) -> None:
        await self.clients.aclose()
        await close_twilio_client(self.twilio_client)


async def started_fakes() -> AsyncIterator[tuple[FakeLlm, FakeTwilioApi]]:
    twilio = FakeTwilioApi(ACCOUNT, "token")
    await twilio.start()
    async with FakeLlm() as fake:
        yield fake, twilio
    await twilio.close()
