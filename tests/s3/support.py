"""Helpers for the tests of models from S3: two models with different answers, publishing them
as a user does, and an S3 endpoint that misbehaves on demand."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import io
import json
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "lambda-tabular-models"
URI = f"s3://{BUCKET}/lambda-tabular/models/water-quality/"
ROWS = [[7.1, 2.4, 380.0, 18.5], [9.2, 6.8, 910.0, 29.0], [6.5, 0.4, 120.0, 11.0], [8.6, 3.9, 650.0, 24.0]]
REQUEST = {"instances": ROWS}
DENY_READS = {"Version": "2012-10-17", "Statement": [{
    "Sid": "NoReads", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}


def convert_water(out: Path, version: str, seed: int | None = None) -> Path:
    """The water-quality example converted as `lambda-tabular convert` does; with ``seed``, an XGBoost
    model retrained on other rows (so it answers differently) under the same name."""
    from lambda_tabular.convert.build import Request, build
    from lambda_tabular.convert.examples import train_water_quality, water_data

    work = out.parent / f"{out.name}-source"
    work.mkdir(parents=True, exist_ok=True)
    if seed is None:
        booster = train_water_quality()
    else:
        import xgboost

        X, y = water_data(1500, seed=seed)
        booster = xgboost.XGBClassifier(n_estimators=30, max_depth=3, random_state=seed).fit(X, y)
    booster.save_model(work / "water_quality.json")
    build(Request(model=work / "water_quality.json", out=out, name="water_quality", version=version),
          log=lambda *a: None)
    return out


def publish(model_dir: Path, env: dict | None = None, uri: str = URI) -> dict:
    """`lambda-tabular publish-model MODEL_DIR URI`: its KEY=VALUE lines. With ``env``, in a
    subprocess as a user runs it; without, the same command in this process (its environment)."""
    if env is not None:
        done = subprocess.run([sys.executable, "-m", "lambda_tabular.deploy", "publish-model", str(model_dir), uri],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        return dict(line.split("=", 1) for line in done.stdout.split())
    from lambda_tabular.deploy.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["publish-model", str(model_dir), uri]) == 0, err.getvalue()
    return dict(line.split("=", 1) for line in out.getvalue().split())


def make_bucket(s3, versioning: bool = True) -> None:
    s3.create_bucket(Bucket=BUCKET)
    if versioning:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def log_records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        start = line.find("{")
        if start >= 0:
            try:
                records.append(json.loads(line[start:]))
            except json.JSONDecodeError:
                pass
    return records


class FaultyS3:
    """An HTTP endpoint in front of moto's S3 that passes requests on, or, by ``mode``: answers
    403 AccessDenied as S3 does ("deny"), drops the connection unanswered ("drop"), answers
    nothing for longer than any timeout ("hang"), flips a byte of every object body it
    passes ("tamper": what corruption on the way or at rest looks like), or passes S3's answer
    on slowly, each wait shorter than a read timeout ("drip-body": the body a few bytes at a time;
    "drip-headers": one header line at a time, with PADDING more lines), or passes each model file
    after SLOW_S ("slow")."""

    def __init__(self, upstream: str):
        self.upstream = upstream.removeprefix("http://")
        self.mode = "pass"
        self.closed = threading.Event()
        self.requests: list[tuple[str, str]] = []
        faulty = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                faulty.handle(self)

            do_HEAD = do_PUT = do_POST = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        self.requests.append((request.command, request.path))
        if self.mode == "drop":
            request.close_connection = True
            request.connection.shutdown(2)
            return
        if self.mode == "hang":
            time.sleep(3)
            request.close_connection = True
            return
        if self.mode == "slow" and request.command == "GET" and not request.path.split("?")[0].endswith("manifest.json"):
            time.sleep(SLOW_S)  # every model file takes a while: downloads of several processes overlap
        if self.mode == "deny":
            body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                    b"<Message>Access Denied</Message><RequestId>1</RequestId></Error>")
            self._answer(request, 403, [("Content-Type", "application/xml")], body)
            return
        length = int(request.headers.get("Content-Length") or 0)
        sent = request.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(self.upstream, timeout=10)
        upstream.request(request.command, request.path, body=sent, headers=dict(request.headers))
        response = upstream.getresponse()
        body = response.read()
        upstream.close()
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in ("transfer-encoding", "connection")]
        if self.mode == "tamper" and request.command == "GET" and response.status == 200 \
                and not request.path.split("?")[0].endswith("manifest.json") and body:
            body = body[:-1] + bytes([body[-1] ^ 1])
        self._answer(request, response.status, headers, body, head=request.command == "HEAD")

    def _answer(self, request, status: int, headers, body: bytes, head: bool = False) -> None:
        headers = [(k, v) for k, v in headers if head or k.lower() != "content-length"]  # HEAD keeps the object's
        if not head:
            headers.append(("Content-Length", str(len(body))))
        if self.mode.startswith("drip"):
            request.close_connection = True
            padding = [(f"x-amz-meta-pad-{i}", "x") for i in range(PADDING)] if self.mode == "drip-headers" else []
            drip(request.wfile, head_of(status, headers + padding), b"" if head else body, self.mode, self.closed)
            return
        request.send_response(status)
        for key, value in headers:
            request.send_header(key, value)
        request.end_headers()
        if not head:
            request.wfile.write(body)

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


SLOW_S = 0.5  # before a model file, in "slow" mode
DRIP_PAUSE_S = 0.05  # between two writes of a dripped answer: far shorter than any read timeout
DRIP_BYTES = 16  # a dripped body's bytes per write
PADDING = 60  # header lines a dripped head carries beyond the answer's own


def head_of(status: int, headers) -> bytes:
    lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, 'Status')}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def drip(out, head: bytes, body: bytes, mode: str, stop: threading.Event) -> None:
    """Write an answer slowly: "drip-headers", the head one line per pause, then the body; "drip-body",
    the head at once, then the body DRIP_BYTES per pause. Stops when the reader hangs up."""
    if mode == "drip-headers":
        parts = [line + b"\r\n" for line in head.split(b"\r\n")[:-1]] + [body]
    else:
        parts = [head] + [body[i:i + DRIP_BYTES] for i in range(0, len(body), DRIP_BYTES)]
    try:
        for part in parts:
            if stop.wait(DRIP_PAUSE_S):
                return
            out.write(part)
            out.flush()
    except OSError:
        return


class Dripping:
    """A loopback HTTP server that answers every request with ``status``, ``headers`` and ``body``,
    slowly as ``mode`` says (drip above), and counts the requests."""

    def __init__(self, mode: str, body: bytes, status: int = 200, headers=()):
        self.requests = 0
        dripping = self
        headers = [*headers, ("Content-Length", str(len(body)))]
        if mode == "drip-headers":
            headers += [(f"x-amz-meta-pad-{i}", "x") for i in range(PADDING)]

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    request = self.rfile.readline()
                    method = request.split(b" ", 1)[0]
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    if not request:
                        return
                    dripping.requests += 1
                    drip(self.wfile, head_of(status, headers), b"" if method == b"HEAD" else body, mode,
                         dripping.closed)

        self.closed = threading.Event()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    from lambda_tabular.deploy.local.container import free_port

    return free_port()  # nothing listens there once the probe socket is closed
