"""A real HTTP receiver on 127.0.0.1 (no mocks of requests) and endpoint helpers."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webhooks.services import webhook_endpoint_create


@dataclass
class Hit:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class Receiver:
    """Records every POST; answers `status` (200 unless a test changes it)."""

    def __init__(self):
        self.hits: list[Hit] = []
        self.status = 200
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.hits.append(Hit(self.path, headers, body))
                answer = b"ok" if receiver.status < 300 else b"receiver says no"
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        return Handler

    def url(self, path: str = "/hooks") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def receiver():
    receiver = Receiver()
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def make_endpoint(db, receiver):
    """make_endpoint(path="/hooks", **fields): an endpoint pointing at the receiver."""

    def make(path: str = "/hooks", **fields):
        return webhook_endpoint_create(data={"webhook_url": receiver.url(path), **fields})

    return make


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint(name="main")
