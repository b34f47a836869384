"""The `bridge` command: serve, call, demo, dialplans check, calls."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bridge.bench.command import add_bench_command
from bridge.config import Settings
from bridge.demo.commands import add_call_commands
from bridge.dialplan.check import add_dialplans_command
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

    add_call_commands(commands)
    add_dialplans_command(commands)
    add_calls_command(commands)
    add_bench_command(commands)
    add_eval_command(commands)
    add_wer_command(commands)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.server import serve

    if args.host:
        settings.bridge_host = args.host
    if args.port:
        settings.bridge_port = args.port
    return serve(settings)


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
