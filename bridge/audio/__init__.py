"""Audio plumbing for calls: mu-law/PCM16 codecs, resampling, fixed-size framing, WAV files and
the webrtcvad turn detector. Plain synchronous code that knows nothing of Twilio or LLMs; import
from the submodules (`bridge.audio.codec`, `.resample`, `.framing`, `.vad`, `.turns`, `.wav`)."""
