"""Real processes for the multi-instance test: `bridge serve` instances and nginx in front.

Every process listens on loopback only and logs to a file in the test's directory, which a
failing test prints.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.postgres import free_port, missing_system_package

REPO = Path(__file__).resolve().parents[2]
LOCATIONS = REPO / "deploy" / "nginx" / "bridge-locations.conf"
START_TIMEOUT_S = 60.0


@dataclass
class BridgeProcess:
    """One `bridge serve` in its own process."""

    instance_id: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.spawn()
        assert self.process is not None
        await wait_until_ready(self.url, self.process, self.log_path)

    def spawn(self) -> None:
        env = {**self.env, "BRIDGE_INSTANCE_ID": self.instance_id, "BRIDGE_PORT": str(self.port)}
        argv = [sys.executable, "-m", "bridge", "--env-file", os.devnull, "serve"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=REPO)

    def drain(self) -> None:
        """SIGTERM: what Kubernetes and systemd send to stop an instance."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def exited(self, timeout_s: float = 60.0) -> int:
        assert self.process is not None
        process = self.process
        return await asyncio.to_thread(process.wait, timeout_s)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def wait_until_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited early:\n{log_path.read_text()}")
            try:
                async with http.get(url + "/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {START_TIMEOUT_S:.0f}s:\n{log_path.read_text()}")


NGINX_CONF = """
worker_processes 1;
daemon off;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" close;
    }}
    upstream bridge {{
        least_conn;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        include {locations};
    }}
}}
"""


@dataclass
class Nginx:
    """Debian's nginx with the shipped location rules, over the given backends."""

    directory: Path
    backends: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> Path:
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
            for port in self.backends
        )
        # As root the workers would drop to `nobody`, who cannot use our private temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        text = NGINX_CONF.format(
            dir=self.directory, port=self.port, servers=servers, locations=LOCATIONS, user=user
        )
        path = self.directory / "nginx.conf"
        path.write_text(text)
        return path

    async def start(self) -> None:
        self.spawn()
        await wait_for_port(self.port)

    def spawn(self) -> None:
        binary = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
        if binary is None:
            missing_system_package("nginx not found")
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.config()
        checked = subprocess.run([binary, "-t", "-c", str(conf)], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        with (self.directory / "stderr.log").open("ab") as log:
            self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"nothing listens on port {port}")
