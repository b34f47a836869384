"""Audio plumbing for calls: mu-law/PCM16 codecs, resampling, fixed-size framing, WAV files and
the turn detector with its voice detectors and noise suppression. Plain synchronous code that
knows nothing of Twilio or LLMs; import from the submodules (`bridge.audio.codec`, `.resample`,
`.framing`, `.vad`, `.voice`, `.silero`, `.rnnoise`, `.turns`, `.wav`)."""
