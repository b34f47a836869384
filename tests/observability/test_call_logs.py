"""JSON log lines name their call: the CallSid follows the call into every task it starts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bridge.demo.local import LocalBridge
from bridge.observability.logs import (
    CHATTY_LIBRARIES,
    CallSidFilter,
    JsonFormatter,
    configure_logging,
)
from bridge.sim.calls import place_call
from bridge.sim.script import PressKeys
from bridge.speech.instant import InstantTTS


class JsonLines(logging.Handler):
    """Keeps each record as the JSON line the production formatter makes of it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.addFilter(CallSidFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    handler = JsonLines()
    root = logging.getLogger()
    level = root.level
    # A CLI test earlier in the run may have quietened the chatty libraries (configure_logging
    # does); their lines, logged inside the call's tasks, are part of what is checked here.
    chatty = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    for name in chatty:
        logging.getLogger(name).setLevel(logging.NOTSET)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name, chatty_level in chatty.items():
            logging.getLogger(name).setLevel(chatty_level)


async def test_every_log_line_about_a_call_carries_its_call_sid(
    instant_bridge: LocalBridge, json_lines: JsonLines
) -> None:
    # Key 0 transfers to support: webhook, media socket, tool, REST update, teardown all log.
    report = await place_call(instant_bridge.twilio, [PressKeys("0")], InstantTTS(), speed=4.0)
    assert report.status == "transferred"

    # The fake Twilio API and the records API run in this process too; they serve no call.
    bridge_lines = [line for line in json_lines.lines if not line["logger"].startswith("aiohttp")]
    about_the_call = [line for line in bridge_lines if report.call_sid in line["message"]]
    tagged = [line for line in json_lines.lines if line.get("call_sid") == report.call_sid]
    assert len(about_the_call) >= 2
    assert all(line.get("call_sid") == report.call_sid for line in about_the_call)
    # Lines that do not spell the sid out are tagged too, from the webhook and the session.
    loggers = {line["logger"] for line in tagged}
    assert {"bridge.twilio.webhooks", "bridge.call.session"} <= loggers
    assert any(line["message"].startswith("call ended: transferred") for line in tagged)


def test_text_format_names_the_call_when_there_is_one() -> None:
    from bridge.observability.logs import TEXT_FORMAT, bind_call, unbind_call

    record = logging.LogRecord("bridge.x", logging.INFO, __file__, 1, "hello", None, None)
    formatter = logging.Formatter(TEXT_FORMAT)
    token = bind_call("CA123")
    try:
        CallSidFilter().filter(record)
    finally:
        unbind_call(token)
    outside = logging.LogRecord("bridge.x", logging.INFO, __file__, 1, "hello", None, None)
    CallSidFilter().filter(outside)
    assert formatter.format(record).endswith("bridge.x [CA123]: hello")
    assert formatter.format(outside).endswith("bridge.x: hello")


@pytest.fixture
def cli_logging() -> Iterator[io.StringIO]:
    """The process's logging as `bridge serve` sets it up (INFO, JSON), into a buffer."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    buffer = io.StringIO()
    handler = configure_logging("INFO", "json")
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        for added in list(root.handlers):
            root.removeHandler(added)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, was in quiet.items():
            logging.getLogger(name).setLevel(was)


async def test_a_rest_request_logs_our_lines_but_not_the_twilio_clients_chatter(
    instant_bridge: LocalBridge, cli_logging: io.StringIO
) -> None:
    report = await place_call(instant_bridge.twilio, [PressKeys("0")], InstantTTS(), speed=4.0)
    assert report.status == "transferred"
    assert len(instant_bridge.twilio.api.actions(report.call_sid)) == 1  # one REST request

    lines = [json.loads(line) for line in cli_logging.getvalue().splitlines()]
    assert [line["message"] for line in lines if line["logger"].startswith("twilio")] == []
    ours = {line["logger"] for line in lines if line["level"] == "INFO"}
    assert {"bridge.twilio.webhooks", "bridge.call.session"} <= ours
