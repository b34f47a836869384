"""Telephony bridge: a Twilio phone line in, an AI agent out."""

__version__ = "0.1.0"
