"""Speech-to-speech agents: one live session per call, audio in and out (see `link.py`)."""
