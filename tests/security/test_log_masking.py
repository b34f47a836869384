"""Customers' numbers never reach the logs whole: the filter the CLI installs masks them."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from bridge.logmask import NOT_CALLER_DATA, MaskingFilter, mask
from bridge.observability.logs import CHATTY_LIBRARIES

CALL_SID = "CA0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        (f"call {CALL_SID} from +15035550142", "5035550142", "+*********42"),
        ("callback on (503) 555-0142", "555-0142", "(***) ***-**42"),
        ("paid with 4111 1111 1111 1234", "4111 1111", "**** **** **** 1234"),
        ("card 4111111111111234 declined", "411111111111", "************1234"),
        ("tool check_order_status({'order_id': '813906'}) failed", "813906", "'****06'"),
        ("order #4572 shipped", "4572", "order #**72"),
        ("{'order_id': '4572', 'verification': '97205'}", "97205", "'***05'"),
    ],
)
def test_numbers_are_masked_to_their_last_digits(line: str, secret: str, kept: str) -> None:
    masked = mask(line)
    assert secret not in masked
    assert kept in masked


def test_call_sids_and_ordinary_numbers_stay_whole() -> None:
    line = f"call {CALL_SID} ended after 3 turns on 127.0.0.1:8080"
    assert mask(line) == line


def test_filter_rewrites_formatted_records_on_a_handler() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tests.security.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("caller %s asked for order %s", "+15035550142", "88310")
    finally:
        logger.removeHandler(handler)
    assert out.getvalue().strip() == "caller +*********42 asked for order ***10"


def test_a_line_marked_as_not_caller_data_stays_whole_and_the_next_is_masked() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tests.security.masking.config")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("%s is served twice", "+15555550100", extra=NOT_CALLER_DATA)
        logger.error("%s called", "+15555550100")
    finally:
        logger.removeHandler(handler)
    assert out.getvalue().splitlines() == ["+15555550100 is served twice", "+*********00 called"]


def test_cli_logging_setup_installs_the_mask(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bridge.cli import main

    monkeypatch.setenv("DIALPLANS_DIR", str(Path(__file__).resolve().parents[2] / "dialplans"))
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    libraries = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    main(["--env-file", os.devnull, "-v", "dialplans", "check"])
    try:
        handlers = [h for h in root.handlers if h not in before]
        assert any(isinstance(f, MaskingFilter) for h in handlers for f in h.filters)
    finally:
        for handler in root.handlers:
            if handler not in before:
                root.removeHandler(handler)
        for handler in before:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, was in libraries.items():
            logging.getLogger(name).setLevel(was)
