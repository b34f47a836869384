"""The simulated Twilio side: a signed webhook, then a media stream that plays a caller."""
