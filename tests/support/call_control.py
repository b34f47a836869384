"""Call control as the Twilio side would see it, for tests of the tools and agents."""

from __future__ import annotations

from typing import Any

from bridge.agent.base import CallControlError


class RecordingControl:
    """Records every transfer attempt and hang-up; refuses the first `failures` transfers."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts: list[dict[str, Any]] = []
        self.hang_ups = 0

    @property
    def transfers(self) -> list[dict[str, Any]]:
        """The transfer attempts that went through."""
        return self.attempts[self.failures :]

    async def transfer(
        self, target: str, caller_id: str | None, announcement: str, **details: object
    ) -> None:
        self.attempts.append(
            {"target": target, "caller_id": caller_id, "announcement": announcement, **details}
        )
        if len(self.attempts) <= self.failures:
            raise CallControlError("Twilio answered 500 after retries")

    async def hang_up(self) -> None:
        self.hang_ups += 1
