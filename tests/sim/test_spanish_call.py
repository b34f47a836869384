"""A Spanish caller on a `language: es` line, end to end through `bridge call --audio`: the
local recogniser (`base`) hears the order number, the rules agent answers in Spanish, and the
line's voice (espeak-ng's Spanish, tests/speech/test_language_voice.py) says it: the
agent's side of the recording is heard as Spanish, its digits as Spanish numbers."""

from __future__ import annotations

import asyncio
import json
import os
import wave
from pathlib import Path

import numpy as np
import pytest

from bridge.cli import main
from bridge.speech.base import RecognitionHints
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.whisper_stt import WhisperSTT

pytestmark = pytest.mark.models

CLIP = Path(__file__).resolve().parents[1] / "speech" / "data" / "es-conteo.wav"  # 1 .. 10
CALLER = "+15035550142"
SPANISH_MARKS = set("¿¡áéíóúñ")  # in every Spanish line of the rules agent, in no English one
LINE = """\
name: tienda
default: true
recognition: {model: base, language: es}
orders: {type: csv, path: pedidos.csv}
"""


def _agent_channel(recording: Path) -> tuple[bytes, int]:
    with wave.open(str(recording)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
        return frames.reshape(-1, wav.getnchannels())[:, 1].tobytes(), wav.getframerate()


async def _heard(pcm: bytes, rate: int) -> tuple[str, str]:
    pool = ModelWorkerPool(1, 0, name="es-call")
    try:
        stt = WhisperSTT(pool).for_call(RecognitionHints(model="base", language="auto"))
        heard = await stt.transcribe(pcm, rate)
    finally:
        pool.close()
    return heard.text, heard.language


def test_a_spanish_caller_is_answered_in_spanish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "dialplans"
    lines.mkdir()
    (lines / "tienda.yaml").write_text(LINE, encoding="utf-8")
    (lines / "pedidos.csv").write_text(
        "order_id,status,item,carrier,eta,phone,zip\n"
        f"12345678910,delivered,Mochila,SEUR,2025-06-14,{CALLER},28001\n",
        encoding="utf-8",
    )
    for name, value in {
        "STT_PROVIDER": "local",
        "TTS_PROVIDER": "local",
        "BRIDGE_AGENT": "dialplan",
        "BRIDGE_DATA_DIR": str(tmp_path / "var"),
        "DIALPLANS_DIR": str(lines),
    }.items():
        monkeypatch.setenv(name, value)

    recordings = tmp_path / "recordings"
    call = ["call", "--audio", str(CLIP), "--from", CALLER, "--recordings", str(recordings)]
    code = main(["--env-file", os.devnull, *call, "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    said = [(turn["source"], turn["agent"]) for turn in report["turns"]]
    assert said[0] == ("greeting", "Hola, ¿en qué puedo ayudarle?")
    # What the caller's counting is heard as depends on where the turn detector cut it (the
    # recogniser's own Spanish test is tests/speech/test_spanish_caller.py); whatever it
    # was, the rules agent answered in Spanish (the order, or its Spanish "say again").
    answered = [agent for source, agent in said if source == "speech"]
    assert answered, said
    assert all(SPANISH_MARKS & set(reply) for reply in answered), said
    text, language = asyncio.run(_heard(*_agent_channel(Path(report["recording"]))))
    # The line's voice speaks Spanish: its side of the recording is heard as Spanish (the
    # English voice reading the same words is heard as English).
    assert language == "es", text
