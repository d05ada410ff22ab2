"""A real second (third...) process with its own offline desk, for the many-process tests.

`python -m tests.reliability.turn_child` reads DATABASE_URL from its environment, opens
an offline desk on it (its own in-memory Chroma), prints "ready", then runs one request
per stdin line and prints its Turn as one JSON line:

- `chat THREAD "MESSAGE"`  a chat turn (the message as a JSON string: it may hold newlines)
- `approve THREAD`          the Confirm button
- `hold THREAD SECONDS`     hold THREAD's lock (as a long turn would), then print "released"

Each request runs on its own thread, so a process can be busy with one while it takes
the next, as an API worker is.
"""

from __future__ import annotations

import json
import sys
import threading
import time


def main() -> None:
    from config import get_settings
    from db.engine import create_db_engine
    from tests.agents.conftest import open_desk

    engine = create_db_engine(get_settings())
    desk = open_desk(engine)
    print("ready", flush=True)
    write = threading.Lock()

    def say(payload: dict[str, object]) -> None:
        with write:
            print(json.dumps(payload, default=str), flush=True)

    def run(line: str) -> None:
        command, thread_id, *rest = line.split(" ", 2)
        if command == "chat":
            turn = desk.chat(thread_id, json.loads(rest[0]))
        elif command == "approve":
            turn = desk.approve(thread_id)
        elif command == "hold":
            with desk._locks.hold(thread_id):
                say({"held": thread_id})
                time.sleep(float(rest[0]))
            say({"released": thread_id})
            return
        else:
            raise SystemExit(f"unknown command {command!r}")
        say({"thread": thread_id, "command": command, **turn.as_json()})

    workers = []
    for line in sys.stdin:
        if line.strip():
            worker = threading.Thread(target=run, args=(line.rstrip("\n"),))
            worker.start()
            workers.append(worker)
    for worker in workers:
        worker.join()
    desk.close()
    engine.dispose()


if __name__ == "__main__":
    main()
