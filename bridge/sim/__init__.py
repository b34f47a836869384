"""The simulated Twilio side: a signed webhook, then a media stream that plays a caller.

A client of any bridge, by URL: it imports nothing of the server (`bridge.demo` boots one).
"""
