"""The playground's HTTP server, in process on a free port: the API, malformed requests (always
a 4xx JSON answer, and the server keeps serving), session expiry and the cap on sessions."""

import http.client
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playground_strategies import JSON

from ildl import nn
from ildl.errors import UsageError
from ildl.playground.server import SessionStore, make_server


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(clock):
    server = make_server("127.0.0.1", 0, SessionStore(timeout=30, max_sessions=3, clock=clock))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
    """(status, decoded JSON or bytes, headers) of one request."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    content = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    connection.request(method, path, body=content, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.getheader("Content-Type") == "application/json":
        data = json.loads(data)
    return response.status, data, response


def new_session(server, query: str = "") -> dict:
    status, answer, _ = request(server, "POST", "/api/session", {"query": query})
    assert status == 200, answer
    return answer


def test_the_page_and_its_files_are_served(server):
    status, page, response = request(server, "GET", "/")
    assert status == 200 and b"/static/app.js" in page
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    for path in ("/static/app.js", "/static/style.css"):
        assert request(server, "GET", path)[0] == 200


def test_a_session_trains_and_exports(server):
    answer = new_session(server, "?dataset=xor&layers=4-relu&seed=3")
    assert answer["frame"]["config"]["dataset"] == "xor"
    assert answer["frame"]["query"].startswith("problem=binary&dataset=xor")
    assert "datasets" in answer["choices"]
    key = answer["session"]
    status, step, _ = request(server, "POST", "/api/step", {"session": key, "epochs": 3})
    assert status == 200 and step["frame"]["epoch"] == 3 and "config" not in step["frame"]
    status, model, response = request(server, "GET", f"/api/export/model?session={key}")
    assert status == 200 and 'filename="playground.ildl"' in response.getheader(
        "Content-Disposition")
    status, code, _ = request(server, "GET", f"/api/export/code?session={key}")
    assert status == 200 and b"epochs=3" in code
    assert f"http://127.0.0.1:{server.server_port}/?".encode() in code


def test_the_exported_bytes_load(server, tmp_path):
    key = new_session(server)["session"]
    request(server, "POST", "/api/step", {"session": key, "epochs": 2})
    _, model, _ = request(server, "GET", f"/api/export/model?session={key}")
    (tmp_path / "m.ildl").write_bytes(model)
    assert nn.load_model(tmp_path / "m.ildl").epochs_trained == 2


def test_a_damaged_shared_link_opens_the_defaults_with_a_warning(server):
    answer = new_session(server, "?dataset=spirals")
    assert "did you mean 'spiral'" in answer["warning"]
    assert answer["frame"]["config"]["dataset"] == "circle"
    answer = new_session(server, "?problem=regression&dataset=csv")
    assert "upload it again" in answer["warning"]
    assert answer["frame"]["config"]["dataset"] == "plane"


def test_an_upload_and_a_refused_upload(server):
    key = new_session(server)["session"]
    good = "x1,x2,label\n" + "\n".join(f"{i},{-i},{i % 2}" for i in range(20))
    status, answer, _ = request(server, "POST", "/api/upload",
                                {"session": key, "name": "mine.csv", "text": good})
    assert status == 200 and answer["frame"]["config"]["dataset"] == "csv"
    assert answer["frame"]["csv_name"] == "mine.csv"
    bad = good.replace("3,-3,1", "3,three,1")
    status, answer, _ = request(server, "POST", "/api/upload", {"session": key, "text": bad})
    assert status == 400 and "line 5: 'three' is not a number" in answer["error"]


@pytest.mark.parametrize("method, path, raw, headers, status, message", [
    ("POST", "/api/step", b"{not json", None, 400, "not valid JSON"),
    ("POST", "/api/step", b"[1, 2]", None, 400, "must be a JSON object"),
    ("POST", "/api/step", b"\xff\xfe", None, 400, "not valid JSON"),
    ("POST", "/api/step", b"[" * 100_000, None, 400, "not valid JSON"),
    ("POST", "/api/step", None, None, 400, "not valid JSON"),  # http.client sends length 0
    ("POST", "/api/step", b"{}", {"Content-Length": "9999999999"}, 413, "larger than"),
    ("POST", "/api/step", b'{"session": "nope"}', None, 404, "reload the page"),
    ("POST", "/api/step", b'{"session": 5}', None, 404, "reload the page"),
    ("POST", "/api/nothing", b"{}", None, 404, "no API"),
    ("GET", "/../../etc/passwd", None, None, 404, "no page"),
    ("GET", "/static/../server.py", None, None, 404, "no page"),
    ("GET", "/api/export/model", None, None, 404, "reload the page"),
    ("PUT", "/", b"{}", None, 501, "Unsupported method"),
    ("GET", "/" + "a" * 70_000, None, None, 414, "URI"),
    ("GET", "/", None, {"Host": "evil.example:8000"}, 403, "127.0.0.1 or localhost"),
])
def test_a_malformed_request_gets_an_error_and_the_server_keeps_serving(
        server, method, path, raw, headers, status, message):
    answer_status, answer, _ = request(server, method, path, raw=raw, headers=headers)
    assert answer_status == status
    if message:
        assert message in answer["error"]
    assert request(server, "GET", "/")[0] == 200


@pytest.mark.parametrize("path, body, message", [
    ("/api/configure", {"config": {"points": "many"}}, "points must be an integer"),
    ("/api/configure", {"config": "spiral"}, "must be a JSON object"),
    ("/api/configure", {"config": {"dataset": "csv"}}, "upload one first"),
    ("/api/step", {"epochs": 1000}, "epochs must be a whole number from 1 to 100"),
    ("/api/step", {"epochs": "5"}, "epochs must be"),
    ("/api/upload", {"text": 5}, "an upload is"),
])
def test_a_refused_setting_is_a_400_that_says_why_and_changes_nothing(server, path, body,
                                                                       message):
    key = new_session(server)["session"]
    status, answer, _ = request(server, "POST", path, {"session": key, **body})
    assert status == 400 and message in answer["error"]
    status, answer, _ = request(server, "POST", "/api/step", {"session": key, "full": True})
    assert status == 200 and answer["frame"]["config"]["dataset"] == "circle"


def test_a_silent_session_expires_and_a_heartbeat_keeps_one_alive(server, clock):
    quiet, beating = new_session(server)["session"], new_session(server)["session"]
    for _ in range(3):
        clock.now += 20
        assert request(server, "POST", "/api/heartbeat", {"session": beating})[0] == 200
    assert len(server.store) == 1
    status, answer, _ = request(server, "POST", "/api/step", {"session": quiet})
    assert status == 404 and "silent" in answer["error"]


def test_sessions_are_capped_and_a_closed_tab_frees_its_own(server):
    keys = [new_session(server)["session"] for _ in range(3)]
    status, answer, _ = request(server, "POST", "/api/session", {"query": ""})
    assert status == 503 and "close one" in answer["error"]
    assert request(server, "POST", "/api/close", {"session": keys[0]})[0] == 200
    new_session(server)
    assert len(server.store) == 3


def test_a_port_in_use_says_how_to_choose_another(server):
    with pytest.raises(UsageError, match=f"port {server.server_port} is already in use.*--port"):
        make_server("127.0.0.1", server.server_port)


def test_the_command_answers_a_port_in_use_with_one_line(server, capsys):
    from ildl.cli import main

    assert main(["playground", "--no-browser", "--port", str(server.server_port)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"port {server.server_port} is already in use" in error
    assert f"--port {server.server_port + 1}" in error


def test_a_body_that_never_arrives_times_out_with_an_answer(server, monkeypatch):
    import socket

    from ildl.playground.server import Handler

    monkeypatch.setattr(Handler, "timeout", 0.5)
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as connection:
        connection.sendall(b"POST /api/step HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Length: 100\r\n\r\n{\"session\"")
        answer = b""
        while chunk := connection.recv(4096):  # the server closes the connection after it
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 408") and "did not arrive in time" in answer
    assert request(server, "GET", "/")[0] == 200


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/api/configure", "/api/step", "/api/reset", "/api/regenerate",
                             "/api/upload", "/api/heartbeat", "/api/session", "/api/close"]),
       body=st.dictionaries(st.sampled_from(["config", "epochs", "new_seed", "text", "name",
                                             "query", "full", "x"]), JSON, max_size=3))
def test_any_json_to_any_route_is_answered_never_a_server_error(server, path, body):
    key = new_session(server)["session"]
    status, answer, _ = request(server, "POST", path, {"session": key, **body})
    assert status in (200, 400), answer
    for opened in (key, answer.get("session")):  # /api/session opens one more
        request(server, "POST", "/api/close", {"session": opened})
