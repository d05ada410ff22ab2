"""Command line: one chat turn against OrderDesk, e.g. for scripts and quick checks.

    python -m agents "Alfreds wants 12 Queso Cabrales" [--thread ID] [--json]
    python -m agents "yes" --thread ID              # continue the same conversation

Without --thread a new conversation starts; its id is printed so the next call can
continue it. --json prints the turn (reply, draft, order_id, pending, tool calls).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any

from config import ConfigError, configure_logging, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents", description="one Order Desk turn")
    parser.add_argument("message", help="what the sales person types")
    parser.add_argument("--thread", help="conversation id to continue (default: a new one)")
    parser.add_argument("--json", action="store_true", help="print the turn as JSON")
    parser.add_argument("--provider", choices=["offline", "openai"], help="override LLM_PROVIDER")
    parser.add_argument("--user", help="who is confirming (recorded on confirmed orders)")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2

    from bootstrap import build_services  # the composition root, above agents/
    from orders.audit import acting_as

    thread = args.thread or f"cli-{uuid.uuid4().hex[:12]}"
    services = build_services(settings, provider=args.provider)
    try:
        # The audit trail names who ran it: --user, else "cli".
        with acting_as(args.user or "cli"):
            turn = services.desk.chat(thread, args.message, user=args.user)
    finally:
        services.close()
    if args.json:
        print(
            json.dumps(
                {"thread": thread, **turn.as_json()}, indent=2, default=str, ensure_ascii=False
            )
        )
    else:
        print(turn.reply)
        if turn.draft is not None and turn.draft.lines and turn.order_id is None:
            print("\n" + draft_text(turn.draft))
        if turn.pending:
            print(f'\n(awaiting confirmation: python -m agents "yes" --thread {thread})')
        elif not args.thread:
            print(f"\n(thread: {thread})")
    return 1 if turn.error else 0


def draft_text(draft: Any) -> str:
    """The draft as the Chat page's table shows it, in plain text for a terminal."""
    rows = [
        f"{line.quantity:>6} × {line.product_name} @ ${line.unit_price:,.2f} = "
        f"${line.line_total:,.2f}" + ("" if line.status == "ok" else f"  ⚠ {line.status}")
        for line in draft.lines
    ]
    return "\n".join([*rows, f"{'':>6}   Total ${draft.total:,.2f}"])


if __name__ == "__main__":
    sys.exit(main())
