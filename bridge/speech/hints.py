"""A dialplan's recognition hints: its model and language, and the words its callers use."""

from __future__ import annotations

from bridge.dialplan.models import Dialplan
from bridge.speech.base import RecognitionHints

# Whisper conditions on the prompt as if it were the text before the turn: a short list of
# the line's own words helps it spell them; a long one costs time on every turn.
MAX_VOCABULARY_CHARS = 400


def hints_for(dialplan: Dialplan) -> RecognitionHints:
    """Hints built from what the dialplan already names, then its own extra vocabulary."""
    words: list[str] = []
    if dialplan.business_name:
        words.append(dialplan.business_name)
    for name, department in dialplan.departments.items():
        words.append(name.replace("_", " "))
        words.extend(department.synonyms)
    if dialplan.orders is not None:
        words.append("order number")
    words.extend(dialplan.recognition.vocabulary)
    vocabulary = ", ".join(dict.fromkeys(word.strip() for word in words if word.strip()))
    if len(vocabulary) > MAX_VOCABULARY_CHARS:
        vocabulary = vocabulary[:MAX_VOCABULARY_CHARS].rsplit(",", 1)[0]
    return RecognitionHints(
        model=dialplan.recognition.model,
        language=dialplan.recognition.language,
        vocabulary=f"{vocabulary}." if vocabulary else "",
    )
