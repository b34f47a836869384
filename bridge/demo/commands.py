"""`bridge call` and `bridge demo`: place a simulated call and print what happened."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bridge.config import Settings
from bridge.demo.answering import Answer, answer_call, parse_variables
from bridge.demo.local import local_bridge
from bridge.demo.realtime import run_realtime_demo
from bridge.sim.calls import TwilioSide, fresh_credentials, place_call
from bridge.sim.fake_llm import FakeLlm, Pace
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.report import CallReport
from bridge.sim.script import DEMO_SCRIPT, PlayAudio, PressKeys, Say, Step
from bridge.sim.summary import summarize
from bridge.speech.factory import load_speech
from bridge.twilio.outbound import OutboundError

FAKE_LLM_PACE = Pace(first_token_s=0.3, tokens_per_s=50)


class _AddStep(argparse.Action):
    """Keeps --say, --audio and --dtmf in the order they were given."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        steps: list[Step] = getattr(namespace, "steps", None) or []
        if option == "--say":
            steps.append(Say(value))
        elif option == "--audio":
            steps.append(PlayAudio(Path(value)))
        else:
            steps.append(PressKeys(value))
        namespace.steps = steps


def add_call_commands(commands: Any) -> None:
    call = commands.add_parser("call", help="play a simulated caller into a bridge")
    call.add_argument("--url", help="a running bridge (default: one in this process)")
    call.add_argument("--say", action=_AddStep, dest="steps", metavar="TEXT", help="say a line")
    call.add_argument("--audio", action=_AddStep, dest="steps", metavar="WAV", help="play a WAV")
    call.add_argument("--dtmf", action=_AddStep, dest="steps", metavar="DIGITS", help="press keys")
    call.add_argument("--to", default="+15555550100", help="the number called (picks the dialplan)")
    call.add_argument(
        "--from",
        dest="caller",
        default="+15555550123",
        help="the caller's number; with --answer, the callee's (the number the bridge dials)",
    )
    call.add_argument(
        "--answer",
        choices=("person", "voicemail", "no_answer", "busy", "failed"),
        help="the other way round: the bridge places the call (--dialplan, --var) and this "
        "answers it, as a person saying the --say lines, a voicemail, or a line that "
        "does not answer, is busy or fails",
    )
    call.add_argument("--dialplan", help="with --answer: a dialplan with an outbound: block")
    call.add_argument(
        "--var", action="append", default=[], metavar="KEY=VALUE", help="with --answer: a variable"
    )
    call.add_argument(
        "--twilio-port",
        type=int,
        default=0,
        help="with --url: port of the local fake Twilio API (the server's TWILIO_API_BASE_URL)",
    )
    _common(call)
    call.set_defaults(handler=_call, steps=None)

    demo = commands.add_parser("demo", help="a scripted call: an order status, then billing")
    demo.add_argument(
        "--repeat", type=int, default=1, help="place the demo N times and print latency figures"
    )
    demo.add_argument(
        "--fake-llm",
        action="store_true",
        help="answer with the LLM agent, from a local fake OpenAI server (300 ms, 50 tokens/s)",
    )
    demo.add_argument(
        "--realtime",
        action="store_true",
        help="answer with agent.mode realtime, from a local Realtime API stand-in (300 ms)",
    )
    _common(demo)
    demo.set_defaults(handler=_demo)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="stream pace (2 = twice real time)"
    )
    parser.add_argument(
        "--recordings",
        type=Path,
        default=None,
        help="WAV folder (DATA_DIR/recordings)",
    )


def _call(args: argparse.Namespace, settings: Settings) -> int:
    steps: list[Step] = args.steps or [Say("Hello?")]
    if args.answer:
        return _answer(args, settings, steps)
    return _finish(args, asyncio.run(_run(args, settings, steps)))


def _answer(args: argparse.Namespace, settings: Settings, steps: list[Step]) -> int:
    if not args.dialplan:
        print("bridge call --answer: --dialplan is required (the bridge places the call)")
        return 2
    try:
        answer = Answer(
            args.answer, args.dialplan, parse_variables(args.var), args.caller, tuple(steps),
            args.speed,
        )  # fmt: skip
        report = asyncio.run(
            answer_call(
                settings,
                answer,
                url=args.url,
                twilio_port=args.twilio_port,
                on_print=None if args.json else _print,
            )
        )
    except (ValueError, OutboundError) as exc:
        print(f"bridge call --answer: {exc}", file=sys.stderr)
        return 2
    _finish(args, report)
    if not args.json:
        print(f"outcome: {report.outcome or 'unknown'}")
    return 0 if report.outcome else 1


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    # The caller phones from the number on order 4572, so the order is read without a ZIP.
    args.url, args.to, args.caller, args.twilio_port = None, "+15555550100", "+15035550142", 0
    if args.realtime:
        return _with_realtime(args, settings)
    if args.fake_llm:
        return asyncio.run(_with_fake_llm(args, settings))
    if args.repeat <= 1:
        return _finish(args, asyncio.run(_run(args, settings, DEMO_SCRIPT)))
    reports = asyncio.run(_repeat(args, settings, args.repeat))
    print(summarize(reports).model_dump_json(indent=2))
    return 0 if all(report.status in ("completed", "transferred") for report in reports) else 1


def _with_realtime(args: argparse.Namespace, settings: Settings) -> int:
    quiet = args.repeat > 1 or args.json
    reports = asyncio.run(
        run_realtime_demo(
            settings,
            DEMO_SCRIPT,
            max(1, args.repeat),
            caller=args.caller,
            called=args.to,
            speed=args.speed,
            recordings_dir=None
            if args.repeat > 1
            else args.recordings or settings.data_dir / "recordings",
            on_print=None if quiet else _print,
        )
    )
    if args.repeat <= 1:
        return _finish(args, reports[0])
    print(summarize(reports).model_dump_json(indent=2))
    return 0 if all(report.status in ("completed", "transferred") for report in reports) else 1


async def _with_fake_llm(args: argparse.Namespace, settings: Settings) -> int:
    async with FakeLlm(FAKE_LLM_PACE) as llm:
        settings = settings.model_copy(
            update={
                "openai_api_key": SecretStr("sk-fake"),
                "openai_base_url": llm.openai_base_url,
                "anthropic_api_key": SecretStr(""),
                "anthropic_base_url": "",
            }
        )
        if args.repeat <= 1:
            return _finish(args, await _run(args, settings, DEMO_SCRIPT))
        reports = await _repeat(args, settings, args.repeat)
        print(summarize(reports).model_dump_json(indent=2))
        return 0


async def _repeat(args: argparse.Namespace, settings: Settings, times: int) -> list[CallReport]:
    """The demo `times` times against one bridge (models loaded once), quietly."""
    async with local_bridge(settings) as bridge:
        return [
            await place_call(
                bridge.twilio,
                DEMO_SCRIPT,
                bridge.services.speech.caller_tts,
                speed=args.speed,
                caller=args.caller,
            )
            for _ in range(times)
        ]


async def _run(args: argparse.Namespace, settings: Settings, steps: list[Step]) -> CallReport:
    recordings = args.recordings or settings.data_dir / "recordings"
    printer = None if args.json else _print
    options = dict(
        caller=args.caller,
        called=args.to,
        speed=args.speed,
        recordings_dir=recordings,
        on_print=printer,
    )
    if args.url is None:
        async with local_bridge(settings) as bridge:
            return await place_call(
                bridge.twilio, steps, bridge.services.speech.caller_tts, **options
            )
    speech = load_speech(settings)
    account_sid, auth_token = (
        settings.twilio_account_sid or fresh_credentials()[0],
        settings.twilio_auth_token.get_secret_value() or secrets.token_hex(16),
    )
    api = FakeTwilioApi(account_sid, auth_token)
    await api.start(port=args.twilio_port)
    try:
        twilio = TwilioSide(
            args.url, account_sid, auth_token, settings.admin_token.get_secret_value(), api
        )
        return await place_call(twilio, steps, speech.caller_tts, **options)
    finally:
        await api.close()
        speech.close()


def _finish(args: argparse.Namespace, report: CallReport) -> int:
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(f"call {report.call_sid}: {report.status} ({report.end_reason})")
        for action in report.twilio_actions:
            print(f"twilio {action['method']} {action['path']} {action['params']}")
        if report.recording:
            print(f"recording: {report.recording}")
    return 0 if report.status in ("completed", "transferred") else 1


def _print(text: str) -> None:
    print(text, file=sys.stdout, flush=True)
