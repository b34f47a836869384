"""End-to-end calls: a bridge on loopback, the simulated caller speaking Twilio's protocol."""

SPEED = 3.0  # the stream runs three times faster than real time; turn-taking is unchanged
