"""How many wrong verification answers (a ZIP for an order) a caller and an order have left.

Counted per caller number and per order, not per call: calling back buys no fresh tries.
With the call store (`TrustRecords`) the count is shared by every instance; without one
(an executor built on its own, in tests) it lives in this process.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from bridge.addresses import phone_part
from bridge.records import utcnow
from bridge.store.base import TrustRecords

# Wrong answers a caller, or an order, may have in WINDOW before lookups needing one stop.
MAX_VERIFICATION_FAILURES = 3
WINDOW = timedelta(hours=24)


class VerificationAttempts:
    def __init__(self, trust: TrustRecords | None, dialplan: str) -> None:
        self._trust = trust
        self._dialplan = dialplan
        self._local: Counter[str] = Counter()

    def _subjects(self, caller: str, order_id: str) -> list[str]:
        # A SIP caller counts by its user part's digits (`sip:+1555...@h`), else as a whole.
        digits = re.sub(r"\D", "", phone_part(caller)) or caller.lower() or "unknown"
        return [f"caller:{digits}", f"order:{self._dialplan}:{order_id}"]

    async def left(self, caller: str, order_id: str) -> int:
        """Wrong answers still allowed: the fewer of the caller's and the order's."""
        used = 0
        for subject in self._subjects(caller, order_id):
            used = max(used, await self._count(subject, utcnow() - WINDOW))
        return max(0, MAX_VERIFICATION_FAILURES - used)

    async def failed(self, caller: str, order_id: str) -> int:
        """Count one wrong answer; the tries left after it."""
        subjects = self._subjects(caller, order_id)
        if self._trust is None:
            self._local.update(subjects)
        else:
            await self._trust.add_verification_failure(subjects, utcnow() - WINDOW)
        return await self.left(caller, order_id)

    async def _count(self, subject: str, since: datetime) -> int:
        if self._trust is None:
            return self._local[subject]
        return await self._trust.verification_failures(subject, since)
