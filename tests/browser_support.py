"""A real browser on a real server: the app served by uvicorn on loopback, rendered by headless Chromium."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")


def serve(app: FastAPI):
    """Run ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def browse(chromium: Path, profile: Path, url: str, *action: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(exist_ok=True)
    command = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",  # the page's console, for console_problems()
        "--window-size=1400,1000",
        "--virtual-time-budget=5000",
        *action,
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def console_problems(stderr: str) -> list[str]:
    """What the page's console said at warning or error level (uncaught errors, CSP refusals, failed loads)
    in a :func:`browse` run's stderr."""
    return [
        line
        for line in stderr.splitlines()
        if ("CONSOLE" in line and (":ERROR:" in line or ":WARNING:" in line)) or "Refused to" in line
    ]
