"""The playground's web server: the page's files and a small JSON API over its sessions.

Python's standard ``http.server`` (a ``ThreadingHTTPServer``: one thread per request) is enough
for one learner's tabs on 127.0.0.1 and adds no dependency; what a framework would give (routing,
body limits, JSON errors) is a few dozen lines here.

API (every body and answer is JSON; ``frame`` is ``Session.frame``)::

    POST /api/session     {"query": "?dataset=spiral..."}  -> {"session", "frame", "warning",
                                                           "choices"}
    POST /api/configure   {"session", "config": {...}}     -> {"frame"}   (full)
    POST /api/step        {"session", "epochs": 5}         -> {"frame"}
    POST /api/reset       {"session", "new_seed": false}   -> {"frame"}   (full)
    POST /api/regenerate  {"session"}                      -> {"frame"}   (full)
    POST /api/upload      {"session", "name", "text"}      -> {"frame"}   (full)
    POST /api/heartbeat   {"session"}                      -> {}
    POST /api/close       {"session"}                      -> {}
    GET  /api/export/model?session=ID  -> playground.ildl  (from memory, never a file)
    GET  /api/export/code?session=ID   -> playground.py

A session lives while its tab sends requests: the page sends a heartbeat every few seconds and
a closing tab says so (``/api/close``); one silent for ``timeout`` seconds is dropped. At most
``max_sessions`` live at once. Any malformed request gets a 4xx answer ``{"error": "..."}``; an
unexpected failure a 500 with the same form, logged, and the server keeps serving.
"""

from __future__ import annotations

import dataclasses
import errno
import http
import http.server
import json
import secrets
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from ..errors import ArgumentError, IldlError, UsageError
from .config import UPLOADED, Config, choices, datasets_for
from .export import MODEL_FILE, python_code
from .session import Session

SESSION_TIMEOUT = 30.0  # seconds without a request before a tab's session is dropped
MAX_SESSIONS = 16
MAX_BODY_BYTES = 2_000_000  # a 1 MB CSV, escaped in JSON, fits
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STATIC_FILES = {"/": "index.html", "/static/app.js": "app.js", "/static/style.css": "style.css"}
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
# The page loads only its own files: no inline scripts, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class RequestError(Exception):
    """A request the server refuses: its HTTP status and the message the page shows."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Entry:
    session: Session
    last_seen: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionStore:
    """The live sessions by id; ``clock`` is injectable so tests can move time."""

    def __init__(self, timeout: float = SESSION_TIMEOUT, max_sessions: int = MAX_SESSIONS,
                 clock: Callable[[], float] = time.monotonic):
        self.timeout, self.max_sessions, self.clock = timeout, max_sessions, clock
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired()
            return len(self._entries)

    def create(self, session: Session) -> str:
        with self._lock:
            self._drop_expired()
            if len(self._entries) >= self.max_sessions:
                raise RequestError(503, f"{self.max_sessions} tabs already have a playground "
                                        "open; close one (a closed tab's session is freed at "
                                        f"once, a crashed one's after {self.timeout:g} s)")
            key = secrets.token_urlsafe(16)
            self._entries[key] = Entry(session, self.clock())
            return key

    def get(self, key) -> Entry:
        """The session's entry, its clock restarted; a 404 if it is unknown or expired."""
        with self._lock:
            self._drop_expired()
            entry = self._entries.get(key) if isinstance(key, str) else None
            if entry is None:
                raise RequestError(404, "this playground session has ended (its tab was silent "
                                        f"for over {self.timeout:g} s, or the server restarted): "
                                        "reload the page")
            entry.last_seen = self.clock()
            return entry

    def close(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _drop_expired(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if now - e.last_seen > self.timeout]:
            del self._entries[key]


class PlaygroundServer(http.server.ThreadingHTTPServer):
    """The HTTP server with its sessions and the page's files (read once, served from memory)."""

    daemon_threads = True  # a request in progress does not keep Ctrl-C from stopping the server

    def __init__(self, address: tuple[str, int], store: SessionStore | None = None):
        super().__init__(address, Handler)
        self.store = store if store is not None else SessionStore()
        self.host = address[0]
        static = resources.files(__package__) / "static"
        self.files = {path: (static / name).read_bytes() for path, name in STATIC_FILES.items()}

    @property
    def address(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.server_port}/"


class Handler(http.server.BaseHTTPRequestHandler):
    server: PlaygroundServer
    server_version = "ildl-playground"
    # Keep-alive: the page's twenty requests a second reuse one connection. Every answer has a
    # Content-Length; an error closes the connection (its body may be left unread).
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm the second waits for the
    # client's delayed acknowledgement, some 40 ms: two frames' worth at 20 frames/s.
    disable_nagle_algorithm = True
    timeout = 60  # seconds a connection may stay silent (idle keep-alive, a stalled upload)

    # -- dispatch --------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    def _answer(self, handle: Callable[[], None]) -> None:
        try:
            self._respond(handle)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the tab closed mid-answer: there is no one to tell

    def _respond(self, handle: Callable[[], None]) -> None:
        try:
            self._check_host()
            handle()
        except RequestError as error:
            self._send_json({"error": str(error)}, error.status)
        except IldlError as error:  # a setting or a file the page sent that ildl refuses
            self._send_json({"error": str(error)}, 400)
        except Exception:  # a bug: say so, keep its traceback in the terminal, keep serving
            traceback.print_exc(file=sys.stderr)
            self._send_json({"error": "internal error of the playground (the terminal that "
                                      "runs it shows the details)"}, 500)

    def _check_host(self) -> None:
        """On 127.0.0.1, answer only requests addressed to this machine: a web page elsewhere
        cannot reach the server through a name that resolves to 127.0.0.1 (DNS rebinding)."""
        if self.server.host not in LOOPBACK:
            return
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname
        if host not in LOOPBACK:
            raise RequestError(403, "this server answers requests to 127.0.0.1 or localhost")

    def _get(self) -> None:
        url = urlsplit(self.path)
        if url.path in self.server.files:
            name = STATIC_FILES[url.path]
            self._send(self.server.files[url.path], 200,
                       CONTENT_TYPES[name[name.rfind("."):]])
            return
        exports = {"/api/export/model": self._export_model, "/api/export/code": self._export_code}
        if url.path not in exports:
            raise RequestError(404, f"no page at {url.path[:100]!r}")
        key = parse_qs(url.query).get("session", [None])[0]
        entry = self.server.store.get(key)
        with entry.lock:
            exports[url.path](entry.session)

    def _post(self) -> None:
        routes = {
            "/api/session": self._new_session, "/api/configure": self._configure,
            "/api/step": self._step, "/api/reset": self._reset,
            "/api/regenerate": self._regenerate, "/api/upload": self._upload,
            "/api/heartbeat": self._heartbeat, "/api/close": self._close,
        }
        path = urlsplit(self.path).path
        if path not in routes:
            raise RequestError(404, f"no API at {path[:100]!r}")
        body = self._read_json()
        if path in ("/api/session", "/api/close"):
            routes[path](body)
            return
        entry = self.server.store.get(body.get("session"))
        with entry.lock:
            routes[path](entry.session, body)

    # -- the API ---------------------------------------------------------------------------------
    def _new_session(self, body: dict) -> None:
        query, warning = body.get("query", ""), None
        if not isinstance(query, str):
            raise RequestError(400, "query must be the page address's query string")
        try:
            config = Config.from_query(query)
        except IldlError as error:  # a damaged shared link still opens the playground
            config, warning = Config(), f"the address's settings were not used: {error}"
        if config.dataset == UPLOADED:
            warning = "your CSV is not part of the address: upload it again"
            config = dataclasses.replace(config, dataset=datasets_for(config.problem)[0])
        session = Session(config)
        key = self.server.store.create(session)
        self._send_json({"session": key, "warning": warning, "choices": choices(),
                         "frame": session.frame(full=True)})

    def _configure(self, session: Session, body: dict) -> None:
        session.configure(Config.from_dict(body.get("config")))
        self._send_frame(session, full=True)

    def _step(self, session: Session, body: dict) -> None:
        session.step(body.get("epochs", 1))
        self._send_frame(session, full=bool(body.get("full")))

    def _reset(self, session: Session, body: dict) -> None:
        session.reset(new_seed=body.get("new_seed") is True)
        self._send_frame(session, full=True)

    def _regenerate(self, session: Session, body: dict) -> None:
        session.regenerate()
        self._send_frame(session, full=True)

    def _upload(self, session: Session, body: dict) -> None:
        text, name = body.get("text"), body.get("name", "data.csv")
        if not isinstance(text, str) or not isinstance(name, str):
            raise ArgumentError("an upload is {'text': the CSV's content, 'name': its file name}")
        session.upload(text, name)
        self._send_frame(session, full=True)

    def _heartbeat(self, session: Session, body: dict) -> None:
        self._send_json({})

    def _close(self, body: dict) -> None:
        self.server.store.close(body.get("session"))
        self._send_json({})

    def _export_model(self, session: Session) -> None:
        self._send(session.model_bytes(), 200, "application/octet-stream", MODEL_FILE)

    def _export_code(self, session: Session) -> None:
        code = python_code(session, self.server.address)
        self._send(code.encode(), 200, "text/x-python; charset=utf-8", "playground.py")

    # -- reading and writing ---------------------------------------------------------------------
    def _read_json(self) -> dict:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise RequestError(411, "the request needs a Content-Length")
        if int(length) > MAX_BODY_BYTES:
            raise RequestError(413, f"the request is larger than {MAX_BODY_BYTES // 1000} kB")
        try:
            raw = self.rfile.read(int(length))
        except TimeoutError:
            raise RequestError(408, "the request's body did not arrive in time") from None
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise RequestError(400, "the request's body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError(400, "the request's body must be a JSON object")
        return body

    def _send_frame(self, session: Session, full: bool) -> None:
        self._send_json({"frame": session.frame(full=full)})

    def _send_json(self, value: dict, status: int = 200) -> None:
        if status >= 400:
            self.close_connection = True
        self._send(json.dumps(value, allow_nan=False).encode(), status, "application/json")

    def _send(self, content: bytes, status: int, content_type: str,
              download: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        if download:
            self.send_header("Content-Disposition", f'attachment; filename="{download}"')
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None
                   ) -> None:
        """http.server's own refusals (an unknown method, a garbled request line, a header too
        long) answered as JSON, like every other error, instead of an HTML page."""
        self._send_json({"error": message or http.HTTPStatus(code).phrase}, code)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        pass  # twenty requests a second would flood the terminal


LAST_PORT = 65535  # ports are 16-bit numbers


def make_server(host: str = "127.0.0.1", port: int = 8000,
                store: SessionStore | None = None) -> PlaygroundServer:
    """The server, listening (port 0: any free port); a port in use is a ``UsageError`` that
    says how to choose another."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= LAST_PORT:
        raise ArgumentError(f"--port {port!r} is not a port: expected a whole number from 1 to "
                            f"{LAST_PORT} (0: any free one), e.g. --port 8000")
    try:
        return PlaygroundServer((host, port), store)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is already in use (another playground?); choose "
                             f"another with --port {port + 1}") from None
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}; choose "
                         "another --host or --port") from None


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Run the playground until Ctrl-C, opening the page in the default browser."""
    server = make_server(host, port)
    print(f"ildl playground: {server.address}  (Ctrl-C stops it)", flush=True)
    if host not in LOOPBACK:
        print("ildl playground: listening beyond this machine: anyone who can reach it can use "
              "its CPU", flush=True)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(server.address,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("ildl playground: stopped")
    finally:
        server.server_close()
