"""Processes the fault tests kill for real, and how to start them.

`python -m tests.reliability.child ...` reads DATABASE_URL from its environment (the
parent test's database) and says on stdout how far it got, so the parent knows where
its SIGKILL lands:

- `confirm`: a fork server. It loads the product once, then for each draft id read
  on stdin forks a process that connects, prints "ready PID", confirms the draft with
  the key the desk's Confirm button uses, prints "confirmed ORDER_ID" and waits to be
  killed; when that process is gone the server prints "exit CODE" (-9 for SIGKILL).
  Forking keeps a round at milliseconds instead of a second of imports.
- `draft THREAD MESSAGE [PENDING_THREAD PENDING_MESSAGE]`: open an offline desk and run
  one chat turn in THREAD; with PENDING_THREAD, draft there too and let the agent stop
  at the approval interrupt of confirm_order, as a crash between the user's "yes" and
  the facade's resume would leave it. Print "drafted", then SIGKILL itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def spawn(*args: str, database_url: str, **popen: Any) -> subprocess.Popen[str]:
    """Start this module with `args` on `database_url`, settings from the environment only."""
    env = {**os.environ, "DATABASE_URL": database_url, "ORDERDESK_ENV_FILE": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.child", *args],
        cwd=ROOT,
        env=env,
        text=True,
        **popen,
    )


def serve_confirmations() -> None:
    import orders.confirm  # noqa: F401 - imported once, before any fork
    from config import get_settings
    from db.engine import create_db_engine

    # The engine once too, before any fork: a fork's pool starts empty (db.engine), so
    # the forks share no connection, and each opens its own.
    engine = create_db_engine(get_settings())

    for line in sys.stdin:
        draft_id = int(line)
        pid = os.fork()
        if pid == 0:
            try:
                _confirm(engine, draft_id)
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


def _confirm(engine: Any, draft_id: int) -> None:
    from sqlalchemy import text

    from db.engine import session_scope
    from orders.confirm import confirm_draft

    with engine.connect() as connection:  # connected first: the kill hits the work
        connection.execute(text("SELECT 1"))
    print(f"ready {os.getpid()}", flush=True)
    with session_scope(engine) as session:
        order = confirm_draft(
            session=session, draft_id=draft_id, idempotency_key=f"draft-{draft_id}"
        )
    print(f"confirmed {order.order_id}", flush=True)
    signal.pause()  # until the parent's SIGKILL


def draft_then_die(thread_id: str, message: str, pending: list[str]) -> None:
    from langchain_core.messages import HumanMessage

    from agents.tools import DeskContext
    from config import get_settings
    from db.engine import create_db_engine
    from tests.agents.conftest import open_desk

    desk = open_desk(create_db_engine(get_settings()))
    turn = desk.chat(thread_id, message)
    assert turn.draft is not None and turn.order_id is None, turn.reply
    if pending:
        pending_thread, pending_message = pending
        desk.chat(pending_thread, pending_message)
        # The agent alone, without the facade's resume: it stops at the interrupt.
        desk.agent.invoke(
            {"messages": [HumanMessage("yes")]},
            {"configurable": {"thread_id": pending_thread}},
            context=DeskContext(
                engine=desk.engine,
                catalog=desk.catalog,
                customers=desk.customers,
                thread_id=pending_thread,
                memory=desk.memory,
            ),
        )
    print("drafted", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "confirm":
        serve_confirmations()
    elif command == "draft":
        draft_then_die(arguments[0], arguments[1], arguments[2:])
    else:
        raise SystemExit(f"unknown command {command!r}")
