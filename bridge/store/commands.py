"""`bridge calls list` and `bridge calls show`: read the call records from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any, get_args

from bridge.config import Settings
from bridge.records import CallStatus
from bridge.store import CallQuery, open_store
from bridge.store.report import calls_table, transcript


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from error


def add_calls_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `calls list` and `calls show`; each sets `handler(args, settings) -> int`."""
    calls = subparsers.add_parser("calls", help="list and show recorded calls")
    actions = calls.add_subparsers(dest="calls_action", required=True)

    listing = actions.add_parser("list", help="recorded calls, newest first")
    listing.add_argument("--number", help="part of the caller's or the called number")
    listing.add_argument("--dialplan", help="only calls handled by this dialplan")
    listing.add_argument("--status", choices=get_args(CallStatus), help="only calls in this state")
    listing.add_argument(
        "--since", type=_moment, help="only calls started at or after this (ISO, UTC if no zone)"
    )
    listing.add_argument("--limit", type=int, default=20, help="at most this many calls")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=list_calls)

    show = actions.add_parser("show", help="one call's transcript, tools and latencies")
    show.add_argument("call_sid")
    show.add_argument("--json", action="store_true", help="print the whole record as JSON")
    show.set_defaults(handler=show_call)


def list_calls(args: argparse.Namespace, settings: Settings) -> int:
    query = CallQuery(
        number=args.number,
        dialplan=args.dialplan,
        status=args.status,
        since=args.since,
        limit=args.limit,
    )
    return asyncio.run(_list_calls(query, args.json, settings))


async def _list_calls(query: CallQuery, as_json: bool, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        calls = await store.list_calls(query)
    finally:
        await store.close()
    if as_json:
        print(json.dumps([call.model_dump(mode="json") for call in calls], indent=2))
    elif calls:
        print(calls_table(calls))
    else:
        print("no calls")
    return 0


def show_call(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_show_call(args.call_sid, args.json, settings))


async def _show_call(call_sid: str, as_json: bool, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        call = await store.get(call_sid)
    finally:
        await store.close()
    if call is None:
        print(f"no call {call_sid}", file=sys.stderr)
        return 1
    print(call.model_dump_json(indent=2) if as_json else transcript(call))
    return 0
