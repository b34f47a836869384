"""faster-whisper's model, made cheaper per turn in three ways its `transcribe` does not offer.

- **Memory kept for the next turn.** CTranslate2 allocates ~300 MB of scratch per encoder pass
  (the attention scores alone are 54 MB a layer) and glibc hands blocks that large back to
  the kernel at once, so every turn faulted in ~75,000 fresh zeroed pages: a fifth of the
  encoder's CPU. `keep_freed_memory` makes malloc keep them (RSS stays at its peak instead,
  about 140 MB more per busy replica).
- **A turn nobody waits for stops early.** The caller spoke on after a speculative
  transcription started: the job cannot be interrupted inside CTranslate2, but it skips the
  decoder after the encoder (`Job.abandoned`), and the encoder if it has not begun.
- **One encoder pass per window.** With `language=None` (auto), faster-whisper encodes the
  first window to detect the language and then again to decode it; here the second pass reuses
  the first.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from faster_whisper import WhisperModel

if TYPE_CHECKING:
    import ctranslate2

log = logging.getLogger(__name__)

# mallopt(3) parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# Free memory at the top of the heap beyond this goes back to the kernel: above the encoder's
# scratch of two replicas at once, so it is reused instead.
_TRIM_THRESHOLD = 1 << 30
_kept = False
_kept_lock = threading.Lock()


def keep_freed_memory() -> bool:
    """Make glibc's malloc serve every block from the heap and keep what is freed (once per
    process). False where there is no glibc `mallopt` (musl, macOS): nothing changes."""
    global _kept
    with _kept_lock:
        if _kept:
            return True
        name = ctypes.util.find_library("c")
        try:
            mallopt = ctypes.CDLL(name).mallopt if name else None
        except (OSError, AttributeError):
            mallopt = None
        if mallopt is None:
            return False
        _kept = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
        if not _kept:
            log.warning("mallopt refused: each turn's encoder pass faults in fresh memory")
        return _kept


class Abandoned(Exception):
    """The turn's transcript is no longer wanted: its decoding stopped early."""


class _Job(threading.local):
    """The job a worker thread is running: set by `TurnWhisper.job`, read by `encode`."""

    def __init__(self) -> None:
        self.abandoned: threading.Event | None = None
        self.encoded: tuple[np.ndarray, ctranslate2.StorageView] | None = None


class TurnWhisper(WhisperModel):
    """A `WhisperModel` whose `transcribe` runs inside `job()` (one per turn)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._job = _Job()

    @contextmanager
    def job(self, abandoned: threading.Event) -> Iterator[None]:
        """Decode one turn in this thread; `abandoned` set means stop at the next step."""
        self._job.abandoned, self._job.encoded = abandoned, None
        try:
            yield
        finally:
            self._job.abandoned, self._job.encoded = None, None

    def _check(self) -> None:
        if self._job.abandoned is not None and self._job.abandoned.is_set():
            raise Abandoned

    def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
        self._check()
        done = self._job.encoded
        if done is not None and np.array_equal(done[0], features):
            return done[1]
        output = super().encode(features)
        if self._job.abandoned is not None:
            self._job.encoded = (features, output)
        self._check()
        return output

    def detect_language(
        self, audio: np.ndarray | None = None, features: np.ndarray | None = None, **kwargs: Any
    ) -> tuple[str, float, list[tuple[str, float]]]:
        # `transcribe` passes every mel frame here but decodes all but the last (its padding):
        # detecting on the decoder's frames makes the two encoder inputs equal, hence one pass.
        if audio is None and features is not None and features.shape[-1] > 1:
            features = features[..., :-1]
        return super().detect_language(audio, features, **kwargs)  # type: ignore[no-any-return]
