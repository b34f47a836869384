"""`bridge campaign ...`: campaigns on a running bridge, through its `/api/campaigns`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bridge.config import Settings


def add_campaign_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    campaign = commands.add_parser("campaign", help="outbound campaigns on a running bridge")
    campaign.add_argument("--url", help="the bridge (default http://BRIDGE_HOST:BRIDGE_PORT)")
    actions = campaign.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="dial a CSV of contacts (a phone column)")
    create.add_argument("contacts", type=Path, help="CSV: phone, then one column per variable")
    create.add_argument("--dialplan", required=True, help="a dialplan with an outbound: block")
    create.add_argument("--max-live", type=int, default=5, help="calls live at once (5)")
    create.add_argument("--rate", type=float, default=1.0, help="new calls per second (1)")
    create.add_argument("--hours", default="09:00-20:00", help="in the callee's time zone")
    create.add_argument("--retry-delay", type=int, default=600, help="seconds (600)")
    create.add_argument("--attempts", type=int, default=3, help="per contact (3)")
    create.add_argument("--timezone", default="UTC", help="for numbers of no known zone")
    for name in ("status", "pause", "resume", "cancel", "results"):
        action = actions.add_parser(name, help=f"{name} a campaign")
        action.add_argument("campaign_id")
        if name == "results":
            action.add_argument("--format", choices=["csv", "json"], default="csv")
    campaign.set_defaults(handler=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    base = args.url or f"http://{settings.bridge_host}:{settings.bridge_port}"
    token = settings.admin_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    method, path, body = "GET", "/api/campaigns", None
    if args.action == "create":
        try:
            text = args.contacts.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"cannot read {args.contacts}: {exc}", file=sys.stderr)
            return 2
        method, body = "POST", {
            "dialplan": args.dialplan, "max_live": args.max_live, "rate_per_s": args.rate,
            "hours": args.hours, "retry_delay_s": args.retry_delay,
            "max_attempts": args.attempts, "fallback_timezone": args.timezone,
            "contacts_csv": text,
        }  # fmt: skip
    elif args.action == "status":
        path += f"/{args.campaign_id}"
    elif args.action == "results":
        path += f"/{args.campaign_id}/results?format={args.format}"
    else:
        method, path = "POST", f"{path}/{args.campaign_id}/{args.action}"
    try:
        status, text = asyncio.run(_request(method, base + path, headers, body))
    except aiohttp.ClientError as exc:
        print(f"cannot reach the bridge at {base}: {exc}", file=sys.stderr)
        return 1
    if status >= 400:
        print(f"refused ({status}):", file=sys.stderr)
        print(_problems(text), file=sys.stderr)
        return 1
    print(text if text.endswith("\n") else text + "\n", end="")
    return 0


def _problems(text: str) -> str:
    try:
        return "\n".join(json.loads(text)["problems"])
    except (ValueError, KeyError, TypeError):
        return text


async def _request(
    method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None
) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, json=body, headers=headers) as response:
            return response.status, await response.text()
