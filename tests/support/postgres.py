"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries on a loopback port.

The cluster is initdb'd in a temp dir and started once per test session; tests take a fresh
database in it. Without the binaries the cases that need it skip, except in CI (CI set),
where they fail loudly.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

# initdb refuses to run as root; as root the cluster belongs to this user.
CLUSTER_USER = "postgres"
SUPERUSER = "bridge"


@dataclass(frozen=True)
class PostgresCluster:
    port: int

    def dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_bin() -> Path | None:
    """The newest installed server's bin dir (Debian keeps one per major version)."""
    initdbs = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    initdbs.sort(key=lambda initdb: int(initdb.parent.parent.name))
    return initdbs[-1].parent if initdbs else None


def _cluster_user_prefix(base: Path) -> list[str]:
    """How to run a server command: as CLUSTER_USER (created if missing) when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(CLUSTER_USER)
    except KeyError:
        useradd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run([*useradd, CLUSTER_USER], check=True)
    shutil.chown(base, user=CLUSTER_USER)
    return ["runuser", "-u", CLUSTER_USER, "--"]


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[-1]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def missing_system_package(message: str) -> None:
    """Skip the test for a missing Debian package, or fail in CI where it must be there."""
    message += " (run tests/support/install-system-deps.sh)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = _server_bin()
    if bin_dir is None:
        missing_system_package("PostgreSQL server binaries not found")
        return
    # Not under pytest's tmp dir: that is private to root, and the server may run as another user.
    base = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
    data = base / "data"
    as_owner = _cluster_user_prefix(base)
    port = free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER]
    _run([*as_owner, *initdb, "--no-locale", "-E", "UTF8", "--no-sync"])
    # fsync off: the tests kill clients, never this server, so its own durability is moot.
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data)]
    _run([*pg_ctl, "-l", str(base / "server.log"), "-o", options, "-w", "start"])
    try:
        yield PostgresCluster(port=port)
    finally:
        _run([*pg_ctl, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(cluster: PostgresCluster) -> str:
    """The DSN of a new, empty database in the cluster."""
    name = f"calls_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return cluster.dsn(name)
