"""A real Chroma server (`chroma run`) for tests, which a test may also stop.

`start_chroma_server(data_dir)` runs the `chroma` CLI of this venv on a free loopback
port and waits until it accepts connections. `ChromaServer.stop()` terminates it, so a
test can take the vector store away from a running app for real; `pause()` freezes it
(SIGSTOP): the kernel still accepts connections on its port, but nothing ever answers.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 30


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChromaServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def pause(self) -> None:
        """Freeze the server: connections are accepted, requests are never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        """Terminate the server (paused or not) and wait until it has exited."""
        if self.running:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot exit
            self.process.terminate()
            self.process.wait(timeout=20)


def start_chroma_server(data_dir: Path) -> ChromaServer:
    """`chroma run --path data_dir` on a free loopback port, once it accepts connections."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data_dir / "server.log"
    chroma = Path(sys.executable).with_name("chroma")
    command = [str(chroma), "run", "--path", str(data_dir / "data")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = ChromaServer(port, process, log)
    try:
        _wait_for_port(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_port(server: ChromaServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not server.running:
            raise RuntimeError(f"chroma run exited: {server.log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", server.port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"chroma run did not start within {START_TIMEOUT_S} s")
