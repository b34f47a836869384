"""A whole bridge in this process, called by the simulator: `bridge call`, `bridge demo`, tests."""
