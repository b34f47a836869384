from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.dialplan.loader import load_dialplans
from bridge.dialplan.models import Dialplan, RecognitionSettings
from bridge.speech.hints import MAX_VOCABULARY_CHARS, hints_for
from bridge.speech.models import ModelMissing, resolve_model

DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans"


def test_a_line_is_heard_with_the_words_its_dialplan_already_names():
    acme = next(plan for plan in load_dialplans(DIALPLANS) if plan.name == "acme")
    hints = hints_for(acme)
    assert hints.language == "en" and hints.model == ""
    for word in ("Acme Outfitters", "billing", "sales", "support", "refund", "order number"):
        assert word in hints.vocabulary


def test_extra_vocabulary_is_added_and_the_whole_kept_short():
    plan = Dialplan(
        name="x",
        business_name="Cedar Hardware",
        recognition=RecognitionSettings(
            vocabulary=["rain check", *(f"w{i}" * 9 for i in range(99))]
        ),
    )
    hints = hints_for(plan)
    assert hints.vocabulary.startswith("Cedar Hardware, rain check")
    assert len(hints.vocabulary) <= MAX_VOCABULARY_CHARS + 1


def test_another_language_needs_a_multilingual_model():
    assert RecognitionSettings(language="es", model="base").language == "es"
    assert RecognitionSettings(language="auto", model="base").language == "auto"
    with pytest.raises(ValidationError, match="multilingual"):
        RecognitionSettings(language="es")
    with pytest.raises(ValidationError):
        RecognitionSettings(language="spanish", model="base")


def test_a_model_that_is_neither_bundled_nor_a_folder_is_refused(tmp_path: Path):
    with pytest.raises(ModelMissing, match=r"no model\.bin"):
        resolve_model(str(tmp_path))
    (tmp_path / "model.bin").write_bytes(b"")
    assert resolve_model(str(tmp_path)) == tmp_path
    assert (resolve_model("") / "model.bin").is_file()


def test_a_line_chooses_whether_its_turns_are_denoised_before_recognition():
    assert hints_for(Dialplan(name="x")).denoise == "spectral"
    quiet = Dialplan(name="x", recognition=RecognitionSettings(denoise="off"))
    assert hints_for(quiet).denoise == "off"
    with pytest.raises(ValidationError):
        RecognitionSettings(denoise="rnnoise")  # type: ignore[arg-type]
