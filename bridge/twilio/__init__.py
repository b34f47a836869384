"""Twilio side of the bridge: Media Streams messages, signatures, TwiML, REST call control."""
