"""Log lines that say which call they belong to, as text or as one JSON object per line.

The CallSid lives in a context variable: set once where a call's work begins (the webhook
request, the media socket's `start`), it follows into every task the call creates, so each
line logged for the call carries it without anyone passing it along.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Literal

CALL_SID: ContextVar[str] = ContextVar("call_sid", default="")

# Libraries whose INFO lines say nothing an operator needs; they log from WARNING up.
CHATTY_LIBRARIES = ("twilio",)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(call_sid_suffix)s: %(message)s"


def bind_call(call_sid: str) -> Token[str]:
    """Every log line from here on, in this task and the tasks it starts, names the call.

    Pass the token to `unbind_call` when this task goes on to other work.
    """
    return CALL_SID.set(call_sid)


def unbind_call(token: Token[str]) -> None:
    CALL_SID.reset(token)


class CallSidFilter(logging.Filter):
    """Puts the current CallSid on each record (`call_sid`, and a text-format suffix)."""

    def filter(self, record: logging.LogRecord) -> bool:
        call_sid = CALL_SID.get()
        record.call_sid = call_sid
        record.call_sid_suffix = f" [{call_sid}]" if call_sid else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, call_sid, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_sid = getattr(record, "call_sid", "")
        if call_sid:
            entry["call_sid"] = call_sid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: Literal["text", "json"]) -> logging.Handler:
    """Send the process's logs to stderr in the chosen format; returns the handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CallSidFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # The twilio client logs every REST request and response at INFO, 11 lines each; its
    # warnings still show, and LOG_LEVEL=DEBUG shows everything.
    quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    return handler
