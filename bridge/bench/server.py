"""The bridge under test, in its own process: spawned with bench settings, or reached by URL.

CPU and memory are read from /proc/<pid> (Linux), so the load generator's own work never
counts; `cpu` pins the server to cores (taskset) to measure "per core".
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bridge.observability.lag import rss_bytes
from bridge.stats import ServerStats

START_TIMEOUT_S = 120.0  # local models load before the server answers
STOP_TIMEOUT_S = 40.0
_TICKS = os.sysconf("SC_CLK_TCK")
# --own-cores: real-time priority (SCHED_FIFO) for the server and the load generator, each on
# its pinned core, as if each had that core to itself: other programs on a shared machine then
# cannot delay a frame, and what is left is the bridge's own. The flood is never raised so.
OWN_CORE_PRIORITY = 10


def take_own_core() -> None:
    """This process at OWN_CORE_PRIORITY; processes it starts (the flood) at normal priority.
    Raises OSError (PermissionError without root or CAP_SYS_NICE)."""
    policy = os.SCHED_FIFO | os.SCHED_RESET_ON_FORK
    os.sched_setscheduler(0, policy, os.sched_param(OWN_CORE_PRIORITY))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerUnderTest:
    url: str
    account_sid: str
    auth_token: str
    admin_token: str
    pid: int | None = None  # None when reached at --url: no CPU or memory figures
    process: asyncio.subprocess.Process | None = None
    description: str = ""

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid) if self.pid else None

    def rss_bytes(self) -> int | None:
        return rss_bytes(self.pid) if self.pid else None

    async def stats(self, http: aiohttp.ClientSession, reset: bool = False) -> ServerStats | None:
        """The server's /api/stats (lags and speech pool), or None if it has none."""
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        params = {"reset": "1"} if reset else {}
        async with http.get(f"{self.url}/api/stats", headers=headers, params=params) as resp:
            if resp.status != 200:
                return None
            return ServerStats.model_validate_json(await resp.text())

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def spawn_server(
    workdir: Path,
    dialplans: Path,
    twilio: tuple[str, str, str],
    providers: str,
    cpu: str | None,
    uvloop: bool,
    realtime_url: str = "",
    own_core: bool = False,
) -> ServerUnderTest:
    """Start `bridge serve` in a new process and wait until it answers /healthz.

    `twilio` is the account SID, auth token and base URL of the (fake) Twilio REST API.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    account_sid, auth_token, twilio_api_url = twilio
    admin_token = secrets.token_hex(16)
    env = {
        **os.environ,
        "PUBLIC_BASE_URL": url,
        "BRIDGE_HOST": "127.0.0.1",
        "BRIDGE_PORT": str(port),
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_API_BASE_URL": twilio_api_url,
        "BRIDGE_ADMIN_TOKEN": admin_token,
        "BRIDGE_DATA_DIR": str(workdir / "data"),
        "DIALPLANS_DIR": str(dialplans),
        "STT_PROVIDER": "instant" if providers == "instant" else "local",
        "TTS_PROVIDER": "instant" if providers == "instant" else "local",
        "BRIDGE_AGENT": "instant" if providers == "instant" else "dialplan",
        "MAX_CONCURRENT_CALLS": "100000",
        "LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    llm = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")
    for key in (*llm, "OPENAI_REALTIME_BASE_URL", "DATABASE_URL"):
        env.pop(key, None)
    if realtime_url:  # realtime calls go to the local stand-in
        env["OPENAI_REALTIME_BASE_URL"] = realtime_url
    # uvloop.install() before the CLI runs makes aiohttp's run_app use uvloop's loop.
    boot = "import uvloop; uvloop.install(); " if uvloop else ""
    if own_core:  # before any thread starts, so all of them inherit it
        boot += (
            "import os; os.sched_setscheduler(0, os.SCHED_FIFO, "
            f"os.sched_param({OWN_CORE_PRIORITY})); "
        )
    code = boot + "import sys; from bridge.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", code, "--env-file", os.devnull, "serve"]
    if cpu and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    log = (workdir / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    log.close()
    server = ServerUnderTest(
        url,
        account_sid,
        auth_token,
        admin_token,
        process.pid,
        process,
        f"spawned pid {process.pid}"
        + (f" on cpu {cpu}" if cpu else "")
        + (", uvloop" if uvloop else "")
        + (", SCHED_FIFO" if own_core else ""),
    )
    try:
        await _wait_healthy(url, process)
    except BaseException:
        await server.stop()
        raise
    return server


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"bridge serve exited with {process.returncode} (server.log)")
            try:
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("bridge serve did not answer /healthz in time")
            await asyncio.sleep(0.2)
