"""A line whose callers speak Spanish: the rules agent listens and answers in Spanish, and the
line's fixed phrases default to Spanish (real tools, the Acme orders CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.agent.base import AgentEvent, CallContext, CallerTurn, Message, TextDelta, ToolEvent
from bridge.agent.orders import open_order_lookup
from bridge.agent.rules import RulesAgent
from bridge.agent.tools import ToolExecutor
from bridge.dialplan.models import Dialplan
from tests.support.call_control import RecordingControl

ORDERS = Path(__file__).resolve().parents[2] / "dialplans" / "data" / "acme-orders.csv"


def spanish_line(language: str = "es", **overrides: Any) -> Dialplan:
    return Dialplan.model_validate(
        {
            "name": "acme-es",
            "recognition": {"model": "base", "language": language},
            "departments": {
                "ventas": {"target": "+15555550110", "synonyms": ["comprar"]},
                "facturación": {"target": "+15555550130", "synonyms": ["factura"]},
            },
            "orders": {"type": "csv", "path": str(ORDERS), "verification": "zip"},
            **overrides,
        }
    )


class Caller:
    def __init__(self, dialplan: Dialplan, caller: str = "+15035550142") -> None:
        self.control = RecordingControl()
        context = CallContext(call_sid="CA1", caller=caller, called="+15555550100")
        tools = ToolExecutor(dialplan, self.control, open_order_lookup(dialplan.orders), context)
        self.agent = RulesAgent(dialplan, tools)
        self.history = [Message(role="agent", text=dialplan.greeting)]

    async def says(
        self, text: str, confidence: float = 1.0, language: str = ""
    ) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        turn = CallerTurn(text=text, confidence=confidence, language=language)
        self.history.append(Message(role="caller", text=text))
        events: list[AgentEvent] = [e async for e in self.agent.respond(list(self.history), turn)]
        tools = [e for e in events if isinstance(e, ToolEvent)]
        for tool in tools:
            self.history.extend(tool.messages)
        reply = "".join(e.text for e in events if isinstance(e, TextDelta))
        self.history.append(Message(role="agent", text=reply))
        return reply, [(t.name, t.arguments) for t in tools]


async def test_an_order_asked_for_and_read_out_in_spanish() -> None:
    caller = Caller(spanish_line())
    reply, tools = await caller.says("Hola, quiero saber dónde está mi pedido.")
    assert tools == []
    assert reply == (
        "Claro. ¿Cuál es su número de pedido? Puede decirlo o marcarlo en el teclado y "
        "pulsar almohadilla."
    )
    reply, tools = await caller.says("Cuatro cinco siete dos.")
    assert tools == [("check_order_status", {"order_id": "4572"})]
    assert reply == (
        "El pedido 4 5 7 2, su Trailblazer 2 tent, ha sido enviado con UPS y debería llegar "
        "el sábado 14 de junio. ¿Puedo ayudarle en algo más?"
    )


async def test_another_numbers_caller_is_asked_for_the_zip_in_spanish() -> None:
    caller = Caller(spanish_line(), caller="+15550009999")
    reply, _ = await caller.says("Mi pedido es el 4572.")
    assert reply.startswith(
        "Encontré el pedido 4 5 7 2. ¿Me puede decir el código postal del pedido, para "
        "confirmar que el pedido es suyo?"
    )


async def test_a_department_a_goodbye_and_an_unsure_goodbye() -> None:
    reply, tools = await Caller(spanish_line()).says("Con facturación, por favor.")
    assert reply.startswith("Le comunico con facturación.")
    assert tools == [("transfer_call", {"department": "facturación"})]

    reply, tools = await Caller(spanish_line()).says("No, gracias. Adiós.")
    assert reply == "Gracias por llamar. ¡Adiós!" and tools == [("end_call", {})]

    caller = Caller(spanish_line())
    reply, tools = await caller.says("Adiós.", confidence=0.2)
    assert reply == "¿Quiere terminar la llamada?" and tools == []
    reply, tools = await caller.says("Sí.")
    assert tools == [("end_call", {})]


async def test_a_line_set_to_auto_answers_in_the_language_heard() -> None:
    line = spanish_line(language="auto")
    reply, _ = await Caller(line).says("¿Dónde está mi pedido?", language="es")
    assert reply.startswith("Claro. ¿Cuál es su número de pedido?")
    reply, _ = await Caller(line).says("Where is my order?", language="en")
    assert reply.startswith("Sure. What's your order number?")


def test_a_spanish_line_starts_from_spanish_phrases_and_keeps_its_own() -> None:
    line = spanish_line(goodbye="Hasta pronto.", call={"not_heard": "¿Cómo dice?"})
    assert line.greeting == "Hola, ¿en qué puedo ayudarle?"
    assert line.goodbye == "Hasta pronto."
    assert line.call.not_heard == "¿Cómo dice?"
    assert line.call.idle.reprompt == "¿Sigue ahí?"
    assert line.agent.fallback.hold.startswith("Lo siento")
    assert line.transfer_returned.format(department="ventas").startswith("Lo siento, no he")
    english = Dialplan.model_validate({"name": "en"})
    assert english.greeting == "Hello, how can I help you?"
