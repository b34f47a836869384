"""The web console at /console: live calls, call records, dialplans and test calls."""

from bridge.console.routes import register_console

__all__ = ["register_console"]
