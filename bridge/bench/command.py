"""`bridge bench`: N concurrent simulated calls against a bridge in another process."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import tempfile
from pathlib import Path

from bridge.agent.instant import INSTANT_REPLY
from bridge.bench.caller import CallPlan
from bridge.bench.dialer import DialerLoad, render_dialer, run_dialer_bench
from bridge.bench.dialplan import write_bench_dialplan
from bridge.bench.hostile import FLOOD_FROM, is_loopback
from bridge.bench.plot import write_plot
from bridge.bench.report import BenchReport, render
from bridge.bench.runner import BenchRunner
from bridge.bench.server import ServerUnderTest, spawn_server, take_own_core
from bridge.bench.voice import caller_line
from bridge.config import Settings
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_llm import FakeReply
from bridge.sim.fake_realtime import FakeRealtime
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.speech.instant import MS_PER_CHAR

# SQLite fsyncs every committed turn; on a slow disk those flushes stall both processes and
# the bench would measure the disk. The store's figures belong to its own tests.
DEFAULT_DATA_PARENT = "/dev/shm" if Path("/dev/shm").is_dir() else ""


def add_bench_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser(
        "bench", help="load a bridge with simulated calls; report latency, CPU and memory"
    )
    where = bench.add_argument_group("the bridge under test (default: spawn `bridge serve`)")
    where.add_argument("--url", help="a running bridge instead (its Twilio credentials below)")
    where.add_argument("--account-sid", default="", help="with --url: TWILIO_ACCOUNT_SID")
    where.add_argument("--auth-token", default="", help="with --url: TWILIO_AUTH_TOKEN")
    where.add_argument("--admin-token", default="", help="with --url: BRIDGE_ADMIN_TOKEN")
    where.add_argument("--providers", choices=("instant", "local"), default="instant")
    where.add_argument("--server-cpu", default="1", help="taskset cores for the server ('' none)")
    where.add_argument("--generator-cpu", default="0", help="cores for this process ('' none)")
    where.add_argument("--uvloop", action="store_true", help="run the server on uvloop")
    where.add_argument(
        "--own-cores",
        action="store_true",
        help="server and generator at real-time priority on their cores (root): a shared "
        "machine's other programs then make no frame late; the flood stays at nice 19",
    )
    where.add_argument(
        "--realtime",
        action="store_true",
        help="agent.mode realtime: calls answered by a local Realtime API stand-in",
    )
    where.add_argument(
        "--stand-in-delay-ms", type=int, default=300, help="with --realtime: its answer delay"
    )
    where.add_argument(
        "--stand-in-pace",
        type=float,
        default=4.0,
        help="with --realtime: its audio at this many times real time (0: all at once)",
    )
    where.add_argument(
        "--stand-in-chunk-ms",
        type=int,
        default=100,
        help="with --realtime: audio per delta (instant TTS, the cascaded bench's voice: 500)",
    )
    where.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_PARENT,
        help="where the spawned server keeps its SQLite call store (default: tmpfs)",
    )
    load = bench.add_argument_group("the load")
    load.add_argument("--calls", default="10", help="concurrent calls; a list steps: 50,100,300")
    load.add_argument("--duration", type=float, default=20.0, help="seconds each call lasts")
    load.add_argument("--ramp", type=float, default=5.0, help="seconds over which calls start")
    load.add_argument("--utterance-ms", type=int, default=1200, help="caller line (instant)")
    load.add_argument("--think-ms", type=int, default=400, help="caller pause after a reply")
    load.add_argument("--barge-every", type=int, default=3, help="every n-th turn interrupts")
    load.add_argument("--silence-ms", type=int, default=600, help="the end-of-turn window")
    load.add_argument("--speed", type=float, default=1.0, help="stream time per real time")
    load.add_argument("--sequential", type=int, default=0, help="then this many short calls")
    load.add_argument("--concurrency", type=int, default=50, help="... this many at a time")
    dialer = bench.add_argument_group(
        "the dialer instead of calls: one campaign on a spawned bridge (instant providers)"
    )
    dialer.add_argument("--campaign", type=int, default=0, help="contacts in the campaign")
    dialer.add_argument("--cap", type=int, default=5, help="its live-call cap (5)")
    dialer.add_argument("--rate", type=float, default=1.0, help="its calls per second (1)")
    dialer.add_argument("--call-ms", type=int, default=2000, help="each callee stays this long")
    flood = bench.add_argument_group("a flood beside the calls (a loopback bridge only)")
    flood.add_argument(
        "--idle-sockets", type=int, default=0, help="signed media sockets that never send start"
    )
    flood.add_argument(
        "--slow-clients", type=int, default=0, help="HTTP clients that never finish a request"
    )
    flood.add_argument(
        "--flood-from",
        default=FLOOD_FROM,
        help="the flood's loopback address (127.0.0.1: the same as the calls')",
    )
    out = bench.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument("--plot", default="bench.png", help="PNG to write ('' for none)")
    bench.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    flooding = args.idle_sockets or args.slow_clients
    if flooding and args.url and not is_loopback(args.url):
        print("bridge bench: --idle-sockets and --slow-clients flood a loopback bridge only")
        return 2
    if args.campaign and args.url:
        print("bridge bench: --campaign spawns its own bridge; leave out --url")
        return 2
    if flooding and not is_loopback(f"http://{args.flood_from}"):
        print("bridge bench: --flood-from must be a loopback address")
        return 2
    if args.uvloop and importlib.util.find_spec("uvloop") is None:
        print("bridge bench: --uvloop needs uvloop (pip install -e '.[bench]')")
        return 2
    if args.generator_cpu and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu) for cpu in args.generator_cpu.split(",")})
    if args.own_cores:
        if args.url or not (args.server_cpu and args.generator_cpu):
            print("bridge bench: --own-cores needs a spawned server and both pinned to cores")
            return 2
        try:
            take_own_core()
        except (OSError, AttributeError) as exc:
            print(f"bridge bench: --own-cores needs root or CAP_SYS_NICE on Linux ({exc})")
            return 2
    if args.campaign:
        load = DialerLoad(args.campaign, args.cap, args.rate, args.call_ms)
        dialer = asyncio.run(
            run_dialer_bench(load, args.server_cpu or None, args.uvloop, args.data_dir)
        )
        print(dialer.model_dump_json(indent=2) if args.json else render_dialer(dialer))
        return 0 if dialer.within_caps else 1
    report = asyncio.run(run_bench(args))
    print(report.model_dump_json(indent=2) if args.json else render(report))
    return 0 if all(not level.errors for level in report.levels) else 1


async def run_bench(args: argparse.Namespace) -> BenchReport:
    levels = [int(n) for n in str(args.calls).split(",") if n.strip()]
    line = await caller_line(args.providers, args.utterance_ms)
    plan = CallPlan(
        line=line,
        duration_s=args.duration * args.speed,
        silence_ms=args.silence_ms,
        think_ms=args.think_ms,
        barge_every=args.barge_every,
    )
    stand_in: FakeRealtime | None = None
    if args.realtime:
        stand_in = FakeRealtime(
            delay_s=args.stand_in_delay_ms / 1000, chunk_ms=args.stand_in_chunk_ms
        )
        stand_in.stamp_audio = True
        # The instant agent's words and as much audio as instant TTS makes of them: both
        # modes then play the caller the same reply, and their figures compare.
        stand_in.reply = FakeReply(INSTANT_REPLY)
        stand_in.ms_per_word = len(INSTANT_REPLY) * MS_PER_CHAR // len(INSTANT_REPLY.split())
        stand_in.audio_pace = args.stand_in_pace
        await stand_in.start()
    try:
        return await _run(args, levels, plan, stand_in)
    finally:
        if stand_in is not None:
            await stand_in.close()


async def _run(
    args: argparse.Namespace, levels: list[int], plan: CallPlan, stand_in: FakeRealtime | None
) -> BenchReport:
    with tempfile.TemporaryDirectory(prefix="bridge-bench-", dir=args.data_dir or None) as tmp:
        workdir = Path(tmp)
        api: FakeTwilioApi | None = None
        if args.url:
            server = ServerUnderTest(
                args.url.rstrip("/"),
                args.account_sid,
                args.auth_token,
                args.admin_token,
                description=args.url,
            )
        else:
            account_sid, auth_token = fresh_credentials()
            # The bridge's REST calls (hang-up, transfer) go to a fake Twilio in this process.
            api = FakeTwilioApi(account_sid, auth_token)
            await api.start()
            server = await spawn_server(
                workdir,
                write_bench_dialplan(workdir / "dialplans", args.silence_ms, bool(stand_in)),
                (account_sid, auth_token, api.url),
                args.providers,
                args.server_cpu or None,
                args.uvloop,
                stand_in.openai_base_url if stand_in is not None else "",
                args.own_cores,
            )
        try:
            report = BenchReport(
                providers=args.providers,
                agent_mode="realtime" if stand_in is not None else "cascaded",
                server=server.description,
                silence_ms=args.silence_ms,
                idle_rss_mb=None,
            )
            runner = BenchRunner(
                server,
                plan,
                args.speed,
                stand_in,
                (args.idle_sockets, args.slow_clients),
                args.flood_from,
            )
            await runner.run(levels, args.ramp, args.sequential, args.concurrency, report)
        finally:
            await server.stop()
            if api is not None:
                await api.close()
    if args.plot:
        try:
            report.plot = str(write_plot(Path(args.plot), report, runner.samples))
        except ImportError:
            report.plot = "not written: matplotlib is missing (pip install '.[bench]')"
    return report
