"""The `agent.realtime:` block: how a speech-to-speech (OpenAI Realtime) call talks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The longest OpenAI's semantic VAD waits in silence before it ends a turn (eagerness `auto`,
# as `medium`: 4 s).
SEMANTIC_VAD_LONGEST_MS = 4000


class RealtimeSettings(BaseModel):
    """Used only when `agent.mode` is `realtime`; every field has a sensible default."""

    model_config = ConfigDict(extra="forbid")

    model: str = "gpt-realtime"
    voice: str = "alloy"  # the model's own voice (the dialplan's `voice:` is for TTS)
    # Who finds the end of the caller's turn: the model's server VAD, its semantic VAD, or
    # the bridge's own detector (the dialplan's `turns:` settings).
    turn_detection: Literal["server_vad", "semantic_vad", "bridge"] = "server_vad"
    silence_ms: int = Field(default=500, ge=100, le=5000)  # server_vad's silence window
    transcription_model: str = "gpt-4o-mini-transcribe"  # the caller's words, for the record
    # Caller audio goes to the model this many ms at a time: each message costs far more CPU
    # than its bytes (`bridge bench --realtime` shows the cost per call), but the model hears
    # the caller up to this much later.
    audio_batch_ms: int = Field(default=100, ge=20, le=200)
    # ... and this many once the caller has been quiet longer than a turn can take to end
    # (`longest_turn_end_ms`); the first sound that may be speech sends what is held at once.
    quiet_batch_ms: int = Field(default=500, ge=20, le=2000)
    connect_timeout_ms: int = Field(default=3000, ge=200, le=30000)
    # A caller turn with no audio back in this long falls back to the cascaded pipeline.
    answer_timeout_ms: int = Field(default=5000, ge=500, le=60000)
    # Said by the cascaded pipeline when it takes over a call from a failed realtime session.
    bridging_phrase: str = "Sorry, one moment. I'm still here."

    def longest_turn_end_ms(self, bridge_longest_ms: int) -> int:
        """The longest silence the turn detection can wait out before it ends a turn
        (`bridge_longest_ms`: the bridge's own detector's, from the dialplan's `turns:`)."""
        if self.turn_detection == "server_vad":
            return self.silence_ms
        if self.turn_detection == "semantic_vad":
            return SEMANTIC_VAD_LONGEST_MS
        return bridge_longest_ms
