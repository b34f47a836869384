"""The `bridge` command: serve, call, demo, dialplans check, calls."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge.bench.command import add_bench_command
from bridge.call.webhook_commands import add_webhooks_command
from bridge.campaign.command import add_campaign_command
from bridge.config import Settings
from bridge.demo.commands import add_call_commands
from bridge.dialplan.check import add_dialplans_command
from bridge.dialplan.loader import DialplanError
from bridge.eval.command import add_eval_command
from bridge.logmask import MaskingFilter
from bridge.observability.logs import configure_logging
from bridge.speech_eval.command import add_wer_command
from bridge.store.commands import add_calls_command

DEFAULT_ENV_FILE = Path(".env")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bridge", description="Put an AI agent on a Twilio phone line."
    )
    parser.add_argument(
        "--env-file", type=Path, help="settings file (default: .env here, if there is one)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the server's logs")
    parser.add_argument(
        "--log-format", choices=["text", "json"], help="log lines as text or JSON (LOG_FORMAT)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bridge server")
    serve.add_argument("--host", help="listen address (default BRIDGE_HOST)")
    serve.add_argument("--port", type=int, help="listen port (default BRIDGE_PORT)")
    serve.set_defaults(handler=_serve)

    dial = commands.add_parser(
        "dial", help="place one outbound call through a running bridge (POST /api/calls)"
    )
    dial.add_argument("to", help="the number to call, E.164 (+15551234567)")
    dial.add_argument("--dialplan", required=True, help="a dialplan with an outbound: block")
    dial.add_argument(
        "--var", action="append", default=[], metavar="KEY=VALUE", help="a variable, repeatable"
    )
    dial.add_argument("--url", help="the bridge (default http://BRIDGE_HOST:BRIDGE_PORT)")
    dial.set_defaults(handler=_dial)

    add_campaign_command(commands)
    add_call_commands(commands)
    add_dialplans_command(commands)
    add_calls_command(commands)
    add_bench_command(commands)
    add_eval_command(commands)
    add_wer_command(commands)
    add_webhooks_command(commands)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.server import serve

    if args.host:
        settings.bridge_host = args.host
    if args.port:
        settings.bridge_port = args.port
    return serve(settings)


def _dial(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import json

    import aiohttp

    from bridge.demo.answering import parse_variables

    try:
        variables = parse_variables(args.var)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    base = args.url or f"http://{settings.bridge_host}:{settings.bridge_port}"
    token = settings.admin_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"to": args.to, "dialplan": args.dialplan, "variables": variables}

    async def post() -> tuple[int, str]:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/calls", json=body, headers=headers) as response:
                return response.status, await response.text()

    try:
        status, text = asyncio.run(post())
    except aiohttp.ClientError as exc:
        print(f"cannot reach the bridge at {base}: {exc}", file=sys.stderr)
        return 1
    if status != 201:
        print(f"call not placed ({status}): {text}", file=sys.stderr)
        return 1
    record = json.loads(text)
    print(f"{record['call_sid']} calling {record['to_number']} for {record['dialplan']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # A file the user named must be there: silently running without it would use other settings.
    # (`--env-file /dev/null` reads none.)
    if args.env_file is not None and (not args.env_file.exists() or args.env_file.is_dir()):
        parser.error(f"settings file not found: {args.env_file}")
    settings = Settings(_env_file=args.env_file or DEFAULT_ENV_FILE)  # type: ignore[call-arg]
    level = settings.log_level if args.verbose or args.command == "serve" else "WARNING"
    # Phone numbers, order ids and card-like numbers never reach the logs whole.
    configure_logging(level, args.log_format or settings.log_format).addFilter(MaskingFilter())
    try:
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except DialplanError as exc:
        # Bad or missing dialplans are the user's to mend: say what and where, no traceback.
        print(f"bridge {args.command}: {_dialplan_trouble(exc, settings)}", file=sys.stderr)
        return 2


def _dialplan_trouble(error: DialplanError, settings: Settings) -> str:
    folder = settings.dialplans_dir
    if not folder.is_dir():
        return (
            f"no dialplans folder at {folder.absolute()} (DIALPLANS_DIR={folder}): "
            "run from the project folder, or set DIALPLANS_DIR"
        )
    return "the dialplans cannot be served:\n" + "\n".join(map(str, error.problems))
