"""`bridge webhooks list` and `bridge webhooks retry`: the after-call webhooks in the store."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, get_args

import aiohttp

from bridge.call.after_call import deliver_due
from bridge.config import Settings
from bridge.store import open_store
from bridge.store.outbox import DeliveryStatus


def add_webhooks_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    webhooks = subparsers.add_parser("webhooks", help="after-call webhooks: list, retry")
    actions = webhooks.add_subparsers(dest="webhooks_action", required=True)
    listing = actions.add_parser("list", help="deliveries in one state (default: dead)")
    listing.add_argument("--status", choices=get_args(DeliveryStatus), default="dead")
    listing.set_defaults(handler=lambda args, settings: asyncio.run(_list(args, settings)))
    retry = actions.add_parser(
        "retry", help="try every dead-lettered webhook again now (and whatever else is due)"
    )
    retry.set_defaults(handler=lambda args, settings: asyncio.run(_retry(settings)))


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        deliveries = await store.outbox.with_status(args.status)
    finally:
        await store.close()
    for d in deliveries:
        print(f"{d.id}\t{d.call_sid}\t{d.url}\t{d.attempts} tries\t{d.last_error}")
    if not deliveries:
        print(f"no {args.status} webhooks")
    return 0


async def _retry(settings: Settings) -> int:
    """One try each, from this process (the server need not run); those failing again are
    dead-lettered again after their tries, by the server's courier or the next retry."""
    store = await open_store(settings)
    try:
        revived = await store.outbox.revive_dead()
        async with aiohttp.ClientSession() as http:
            delivered = await deliver_due(store.outbox, http, backoff_s=1.0)
    finally:
        await store.close()
    print(f"{revived} dead-lettered webhooks retried; {delivered} delivered now")
    return 0 if delivered >= revived else 1
