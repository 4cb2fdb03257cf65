"""A loopback stand-in for the Unity Catalog REST API: recorded answers replayed on 127.0.0.1.

The real ``databricks.sdk.WorkspaceClient`` talks HTTP to it; the answers are the JSON files
under ``identity_graph_tests/fixtures/unity_catalog`` (its README says where each comes from).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from identity_graph.resources.permissions import workspace_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "unity_catalog"
#: The access token every recorded request carries (never a real one).
TOKEN = "dapi-TEST-SECRET-0123456789abcdef"
#: The route of the SCIM "who am I" request.
ME = "GET /api/2.0/preview/scim/v2/Me"


class RecordedUnityCatalog:
    """Replays recorded responses on 127.0.0.1, keyed by ``"GET <decoded path>[?principal=...]"``.

    ``max_results`` and ``page_token`` stay out of the key except that ``page_token``
    selects ``#<token>`` variants; every request is logged, and one with no recorded
    answer gets a 500 and is listed in :attr:`unexpected`.
    """

    def __init__(self, routes: Mapping[str, str]) -> None:
        self.routes = dict(routes)
        self.requests: list[dict] = []
        self.unexpected: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._answer(self)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        key = f"{handler.command} {urllib.parse.unquote(split.path)}"
        if "principal" in query:
            key += f"?principal={query['principal']}"
        if "page_token" in query:
            key += f"#{query['page_token']}"
        self.requests.append({"key": key, "query": query, "authorization": handler.headers.get("Authorization")})
        name = self.routes.get(key)
        if name is None:
            self.unexpected.append(key)
            status, content_type, payload = (
                500,
                "application/json",
                json.dumps({"error_code": "TEST_FIXTURE_MISSING", "message": f"no recorded answer for {key}"}).encode(),
            )
        else:
            recorded = json.loads((FIXTURES / name).read_text())
            status = recorded["status"]
            content_type = recorded.get("content_type", "application/json")
            payload = recorded["text"].encode() if "text" in recorded else json.dumps(recorded["body"]).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def client(self):
        return workspace_client(self.host, TOKEN, http_timeout_seconds=5, retry_timeout_seconds=5)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
