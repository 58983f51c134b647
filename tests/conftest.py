"""Shared fixtures: a real embedded mesh in its own process, and an independent HTTP event sink.

The sink parses what it receives with the official cloudevents SDK, not with culturemesh's own
binding, so end-to-end tests check culturemesh against an independent peer.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import from_http as sdk_from_http

REPO = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO / "events"
SAMPLES = REPO / "functions" / "ticket-sales" / "samples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    attributes: dict[str, Any]
    data: Any
    headers: dict[str, str]


@dataclass
class Sink:
    """A consumer endpoint: records events; ``respond`` decides the HTTP answer per request."""

    port: int
    events: list[Received] = field(default_factory=list)
    respond: Callable[[int], tuple[int, dict[str, str], bytes]] = lambda n: (200, {}, b"")
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    requests: int = 0
    raw: list[dict[str, Any]] = field(default_factory=list)  # every accepted request's headers and body, as sent

    def wait_raw(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.raw) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.raw)} of {count} requests arrived within {timeout}s")
                self._arrived.wait(left)
            return list(self.raw)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 30.0) -> Received:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.attributes.get("type") for e in self.events]
                    raise AssertionError(f"no matching event within {timeout}s; received types: {seen}")
                self._arrived.wait(left)

    def of_type(self, event_type: str, timeout: float = 30.0) -> Received:
        return self.wait_for(lambda e: e.attributes.get("type") == event_type, timeout)


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {key.lower(): value for key, value in self.headers.items()}
            with sink._arrived:
                sink.requests += 1
                number = sink.requests
            status, reply_headers, reply = sink.respond(number)
            if 200 <= status < 300:
                with sink._arrived:
                    sink.raw.append({"headers": headers, "body": body})
                    if headers.get("ce-specversion") == "1.0" or "cloudevents" in headers.get("content-type", ""):
                        event = sdk_from_http(headers, body)
                        sink.events.append(Received(dict(event.get_attributes()), event.get_data(), headers))
                    sink._arrived.notify_all()
            self.send_response(status)
            for key, value in reply_headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def make_sink() -> Iterator[Callable[..., Sink]]:
    servers: list[ThreadingHTTPServer] = []

    def start(port: int | None = None) -> Sink:
        sink = Sink(port or free_port())
        server = ThreadingHTTPServer(("127.0.0.1", sink.port), _handler(sink))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return sink

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class Mesh:
    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ingress(self) -> str:
        return f"{self.url}/culturemesh/default"

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "culturemesh", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"culturemesh {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def start(self) -> None:
        log = (self.home / "mesh-test.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "culturemesh", "up"],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"mesh did not start; log: {(self.home / 'mesh-test.log').read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()  # never leave a mesh behind, even one that ignores SIGTERM
                self.process.wait(5)
                raise AssertionError("the mesh did not stop within 15 s of SIGTERM") from None
        self.process = None

    def status(self) -> dict[str, Any]:
        """The admin API's status document (over HTTP; the CLI verb has its own tests)."""
        with urllib.request.urlopen(f"{self.url}/-/status", timeout=10) as response:
            return dict(json.loads(response.read()))

    def apply(self, *objects: dict[str, Any]) -> None:
        body = json.dumps(list(objects)).encode()
        request = urllib.request.Request(f"{self.url}/-/apply", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


@pytest.fixture
def mesh_env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CULTUREMESH_", "K_"))}
    env.update(
        CULTUREMESH_HOME=str(tmp_path / "home"),
        CULTUREMESH_PROJECT=str(REPO),
        CULTUREMESH_PORT=str(port),
        CULTUREMESH_LOG_FORMAT="json",
        CULTUREMESH_IDLE_SECONDS="30",
    )
    return env


@pytest.fixture
def start_mesh(mesh_env: dict[str, str]) -> Iterator[Callable[..., Mesh]]:
    """Start a mesh process; keyword arguments override its CULTUREMESH_* settings."""
    started: list[Mesh] = []

    def start(**overrides: str) -> Mesh:
        env = {**mesh_env, **{f"CULTUREMESH_{key.upper()}": value for key, value in overrides.items()}}
        home = Path(env["CULTUREMESH_HOME"])
        home.mkdir(parents=True, exist_ok=True)
        running = Mesh(home, int(env["CULTUREMESH_PORT"]), env)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def mesh(start_mesh: Callable[..., Mesh]) -> Mesh:
    return start_mesh()


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:  # never test against someone else's server on a taken port
            raise AssertionError(f"moto server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered, if only to say no
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"moto server did not answer on {url} within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one moto server process on 127.0.0.1 (real S3 and KMS HTTP APIs) for the whole
    session, stopped at its end."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
