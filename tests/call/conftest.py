"""Every call a timeline test runs must leave no task alive once it has closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.call.timeline import RUNS


@pytest.fixture(autouse=True)
def no_task_outlives_its_call() -> Iterator[None]:
    RUNS.clear()
    yield
    leaks = [name for call in RUNS for name in call.leaked]
    RUNS.clear()
    if leaks:
        pytest.fail(f"tasks still alive after their call closed: {leaks}")
