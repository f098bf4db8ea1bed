"""What every CRM emulator shares: serving HTTP on 127.0.0.1 in a background thread, and the ``python -m`` entry.

An emulator subclasses :class:`LocalHttpServer` (``start``/``stop``/``with``), returns its request handler (a
subclass of :class:`EmulatorHandler`, which finds the emulator as ``self.emulator``) from ``handler_class``, and
keeps its API behaviour to itself. Its ``cli`` ends with :func:`serve_until_interrupted`.

Standard library only: the emulators must not need anything from crmclean to run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence, Sized
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol, Self


class EmulatorHandler(BaseHTTPRequestHandler):
    """Keep-alive (clients reuse connections), one write per answer, no access log.

    ``wbufsize``: headers and body go out in one write; two small writes per answer meet the client's delayed
    ACK (Nagle) and cost ~17-40 ms a request (1,000 HubSpot pages took 45 s instead of a few). ``TCP_NODELAY``
    for the same reason.
    """

    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        # A client that gave up (emulated timeout) leaves unsent bytes behind; the stdlib's own final flush
        # would then print a BrokenPipe traceback.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return  # tests and benchmarks would drown in access logs


class KeepAliveServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers its open connections, so that ``stop`` can close kept-alive ones
    (they would otherwise hold handler threads, and clients would go on talking to a stopped emulator)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.connections: set[Any] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def wrap_socket(self, sock: socket.socket) -> Any:
        """The socket a handler talks over (a TLS server wraps it here)."""
        return sock

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        sock = self.wrap_socket(sock)
        with self.connections_lock:
            self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
            self.connections.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class LocalHttpServer:
    """``start`` / ``stop`` / ``with emulator:`` for an emulator served on ``host:port`` (port 0: any free one,
    the bound port is then in ``port``) from a daemon thread."""

    thread_name: ClassVar[str] = "crm-emulator"
    host: str
    port: int
    _server: KeepAliveServer | None = None
    _thread: threading.Thread | None = None

    def handler_class(self) -> type[EmulatorHandler]:
        """The emulator's request handler."""
        raise NotImplementedError

    def _make_server(self) -> KeepAliveServer:
        """Bind the port (and note the bound one); the handler class is bound to this emulator."""
        base = self.handler_class()
        handler = type(f"_Bound{base.__name__}", (base,), {"emulator": self})
        server = KeepAliveServer((self.host, self.port), handler)
        self.port = server.server_address[1]
        return server

    def start(self) -> Self:
        """Bind the port and serve in a background thread (OSError when the port cannot be bound)."""
        server = self._make_server()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Served(Protocol):
    """What :func:`serve_until_interrupted` needs of an emulator."""

    @property
    def base_url(self) -> str: ...

    @property
    def port(self) -> int: ...

    def start(self) -> Any: ...

    def stop(self) -> None: ...


def emulator_parser(prog: str, description: str, *, load_help: str, port: int = 0) -> argparse.ArgumentParser:
    """The ``python -m`` options every emulator takes: ``--port``, ``--host``, ``--load CSV`` (repeatable)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--port", type=int, default=port, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--load", action="append", default=[], metavar="CSV", help=load_help)
    return parser


def load_files(paths: Sequence[str], load: Callable[[str], Sized], what: str) -> bool:
    """``load`` each file, saying ``loaded N <what> from <path>``; False, after one line on stderr, at the first
    file that cannot be read or loaded."""
    for path in paths:
        try:
            count = len(load(path))
        except (OSError, ValueError, KeyError, csv.Error) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return False
        print(f"loaded {count} {what} from {path}")
    return True


def listen_or_explain(emulator: Served, name: str, address: str) -> bool:
    """Start ``emulator``; False, after one line on stderr, when ``address`` cannot be listened on."""
    try:
        emulator.start()
    except OSError as err:
        print(f"{name} emulator: cannot listen on {address}: {err.strerror or err}", file=sys.stderr)
        return False
    return True


def wait_then_stop(emulator: Served) -> int:
    """Serve until Ctrl-C or SIGTERM, then stop the emulator; 0."""
    stop = threading.Event()
    with contextlib.suppress(ValueError):  # signal handlers can only be set from the main thread
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


def serve_until_interrupted(emulator: Served, name: str, env: Callable[[], Mapping[str, str]], *,
                            address: str | None = None) -> int:
    """The ``python -m`` entry's end: start, print the variables that point crmclean at the emulator (``env``
    is read once it listens: the port may be chosen then), serve until Ctrl-C or SIGTERM, stop.

    2 after one line on stderr when the port cannot be bound, else 0.
    """
    if not listen_or_explain(emulator, name, address or f"port {emulator.port}"):
        return 2
    print(f"{name} emulator listening on {emulator.base_url}")
    print("export these to point crmclean at it:")
    for key, value in env().items():
        print(f"  export {key}={value}")
    print("Ctrl-C stops it.", flush=True)
    return wait_then_stop(emulator)
