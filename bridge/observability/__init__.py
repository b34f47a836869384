"""What an operator sees of a running bridge: metrics, health and readiness, structured logs."""
