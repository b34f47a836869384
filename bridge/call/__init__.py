"""The call session: where transport, audio, speech and agent meet (start with session.py)."""
