"""Speech: STT and TTS behind two small protocols (see `base.py`)."""
