"""`bridge bench --campaign N`: how fast the dialer places calls, and how well it keeps to its
caps (calls placed per second against `--rate`, calls live at each moment against `--cap`).

A bridge is spawned with instant providers and given one campaign of N contacts over its
API. The fake Twilio API and its callees run in this process, so every `calls.create` and
every final status is seen where it happens: a call is live from its create to its final
status, as Twilio counts it. Each callee answers after `ring_ms` and stays `call_ms`.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import aiohttp
from pydantic import BaseModel

from bridge.bench.dialplan import write_bench_dialplan
from bridge.bench.server import ServerUnderTest, spawn_server
from bridge.sim.callee import Callee, CalleePlayer
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.script import Quiet
from bridge.speech.instant import InstantTTS

SAMPLE_S = 0.01  # how often the live calls are counted
STATUS_POLL_S = 0.5  # how often the campaign is asked whether it is done
SILENCE_MS = 600


@dataclass(frozen=True)
class DialerLoad:
    contacts: int
    cap: int
    rate_per_s: float
    call_ms: int = 2000
    ring_ms: int = 300


class DialerSecond(BaseModel):
    second: int  # since the campaign was created
    placed: int  # calls created in that second
    live_max: int  # the most calls live at once in it


class DialerReport(BaseModel):
    contacts: int
    cap: int
    rate_per_s: float
    call_ms: int
    server: str
    placed: int
    dialled_twice: int  # numbers called more than once (must be 0)
    wall_s: float  # the campaign's creation to its end
    calls_per_s: float | None  # placed over the span from the first create to the last
    busiest_second: int  # most creates in any one-second window
    closest_ms: float | None  # the shortest gap between two creates (limit: 1000 / rate)
    peak_live: int
    seconds: list[DialerSecond]
    outcomes: dict[str, int]
    server_cpu_s: float | None

    @property
    def within_caps(self) -> bool:
        return (
            self.dialled_twice == 0
            and self.peak_live <= self.cap
            and self.busiest_second <= max(1, int(self.rate_per_s + 0.999))
        )


async def run_dialer_bench(
    load: DialerLoad, cpu: str | None, uvloop: bool, data_dir: str | None
) -> DialerReport:
    with tempfile.TemporaryDirectory(prefix="bridge-dialer-", dir=data_dir or None) as tmp:
        workdir = Path(tmp)
        account_sid, auth_token = fresh_credentials()
        async with FakeTwilioApi(account_sid, auth_token) as api:
            server = await spawn_server(
                workdir,
                write_bench_dialplan(workdir / "dialplans", SILENCE_MS),
                (account_sid, auth_token, api.url),
                "instant",
                cpu,
                uvloop,
            )
            api.player = CalleePlayer(
                account_sid,
                auth_token,
                InstantTTS(),
                default=Callee(lines=(Quiet(load.call_ms),), ring_ms=load.ring_ms),
                admin_token=server.admin_token,
            )
            try:
                return await _campaign(load, server, api)
            finally:
                await server.stop()


async def _campaign(load: DialerLoad, server: ServerUnderTest, api: FakeTwilioApi) -> DialerReport:
    loop = asyncio.get_running_loop()
    phones = [f"+1212{index:07d}" for index in range(load.contacts)]
    body = {
        "dialplan": "bench", "hours": "00:00-23:59", "max_live": load.cap,
        "rate_per_s": load.rate_per_s, "max_attempts": 1,
        "contacts_csv": "phone\n" + "\n".join(phones) + "\n",
    }  # fmt: skip
    # Generous: every call placed at the rate, then the calls' time spread over the cap.
    deadline_s = 60 + load.contacts * (
        1 / load.rate_per_s + (load.call_ms + load.ring_ms + 5000) / 1000 / load.cap
    )
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        cpu_before = server.cpu_seconds()
        async with http.post(f"{server.url}/api/campaigns", json=body) as response:
            if response.status != 201:
                raise RuntimeError(f"campaign refused ({response.status}): {await response.text()}")
            campaign_id = (await response.json())["campaign_id"]
        started = loop.time()
        samples: list[tuple[float, int]] = []
        next_poll = started
        while loop.time() - started < deadline_s:
            samples.append((loop.time() - started, len(api.live)))
            if loop.time() >= next_poll:
                next_poll += STATUS_POLL_S
                async with http.get(f"{server.url}/api/campaigns/{campaign_id}") as response:
                    if (await response.json())["status"] == "done":
                        break
            await asyncio.sleep(SAMPLE_S)
        else:
            raise RuntimeError(f"the campaign did not finish in {deadline_s:.0f} s")
        wall_s = loop.time() - started
        cpu_after = server.cpu_seconds()
        async with http.get(f"{server.url}/api/campaigns/{campaign_id}/results") as response:
            lines = await response.json()
    creates = sorted(at - started for at in api.created_at)
    return DialerReport(
        contacts=load.contacts,
        cap=load.cap,
        rate_per_s=load.rate_per_s,
        call_ms=load.call_ms,
        server=server.description,
        placed=len(creates),
        dialled_twice=sum(1 for n in Counter(p.to for p in api.placed.values()).values() if n > 1),
        wall_s=round(wall_s, 2),
        calls_per_s=_per_second(creates),
        busiest_second=_busiest_second(creates),
        closest_ms=min((round((b - a) * 1000, 1) for a, b in pairwise(creates)), default=None),
        peak_live=api.peak_live,
        seconds=_by_second(creates, samples),
        outcomes=dict(Counter(str(line["outcome"]) for line in lines)),
        server_cpu_s=None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
    )


def _per_second(creates: list[float]) -> float | None:
    if len(creates) < 2 or creates[-1] == creates[0]:
        return None
    return round((len(creates) - 1) / (creates[-1] - creates[0]), 2)


def _busiest_second(creates: list[float]) -> int:
    """The most creates inside any half-open one-second window."""
    most, first = 0, 0
    for last, at in enumerate(creates):
        while at - creates[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def _by_second(creates: list[float], samples: list[tuple[float, int]]) -> list[DialerSecond]:
    seconds = int(max([*creates, *(at for at, _ in samples), 0.0])) + 1
    placed = Counter(int(at) for at in creates)
    live: dict[int, int] = {}
    for at, count in samples:
        live[int(at)] = max(live.get(int(at), 0), count)
    return [
        DialerSecond(second=s, placed=placed[s], live_max=live.get(s, 0)) for s in range(seconds)
    ]


def render_dialer(report: DialerReport) -> str:
    lines = [
        f"dialer: {report.contacts} contacts, cap {report.cap} live, {report.rate_per_s:g} "
        f"calls/s, each callee on the line {report.call_ms} ms (server: {report.server}, "
        "instant providers)",
        f"placed {report.placed} calls in {report.wall_s} s: "
        f"{report.calls_per_s if report.calls_per_s is not None else '-'} calls/s "
        f"(limit {report.rate_per_s:g}); busiest second {report.busiest_second}; closest two "
        f"{report.closest_ms if report.closest_ms is not None else '-'} ms apart (claims are "
        f"{1000 / report.rate_per_s:.0f} ms apart; a create's own latency varies)",
        f"live calls: peak {report.peak_live} (cap {report.cap}); numbers dialled twice: "
        f"{report.dialled_twice}; outcomes: "
        + ", ".join(f"{name} {count}" for name, count in sorted(report.outcomes.items())),
        "server CPU: "
        + ("-" if report.server_cpu_s is None else f"{report.server_cpu_s:.2f} s")
        + ("" if report.within_caps else "   ** the caps were not kept **"),
        "",
        f"{'second':>6}  {'placed':>6}  {'live (max)':>10}",
    ]
    lines += [f"{s.second:>6}  {s.placed:>6}  {s.live_max:>10}" for s in report.seconds]
    return "\n".join(lines)
