#!/usr/bin/env python3
"""A recording APM Server for Lantern's tests.

Serves POST /intake/v2/events like APM Server (gzip/deflate/plain ndjson), records every request (path, headers,
decompressed events) and validates each event against the intake v2 JSON schemas next to this file. It can be told
to misbehave, at start (--mode JSON) or later (POST /__mode with a JSON body):

  {"status": 503}          answer intake requests with this status (401, 429, 413, 500, 503, ...)
  {"hang": true}           never answer intake requests (until POST /__release or a new mode)
  {"delay": 1.5}           answer after this many seconds
  {"crash": true}          read part of the request, then drop the connection without answering
  {"recover_after": 3}     misbehave for this many intake requests, then answer 202 again
  {"info_status": 401}     status of GET / (the server-info request agents send through the proxy)
  {"idle_timeout": 0.3}    close a kept-alive connection idle this many seconds (APM Server's idle_timeout);
                           applies to connections opened after it is set; closes are counted in "idle_closed"

GET /__recorded returns everything recorded as JSON. The bound port is printed on stdout as `PORT <n>`.
"""
import argparse
import gzip
import json
import os
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_FILES = {
    "metadata": "metadata.json",
    "transaction": "transaction.json",
    "span": "span.json",
    "error": "error.json",
    "metricset": "metricset.json",
    "log": "log.apm-server-80d2392.json",
}


def load_validators(folder):
    validators = {}
    for key, name in SCHEMA_FILES.items():
        with open(os.path.join(folder, name)) as handle:
            schema = json.load(handle)
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        validators[key] = cls(schema)
    return validators


class State:
    def __init__(self, mode, validators):
        self.lock = threading.Lock()
        self.mode = dict(mode)
        self.misbehaved = 0
        self.requests = []
        self.release = threading.Event()
        self.validators = validators
        self.idle_closed = 0

    def set_mode(self, mode):
        with self.lock:
            self.mode = dict(mode)
            self.misbehaved = 0
            self.release.set()
            self.release = threading.Event()

    def intake_behaviour(self):
        """The mode for the next intake request (None = behave)."""
        with self.lock:
            mode = self.mode
            misbehaving = any(k in mode for k in ("status", "hang", "crash", "delay"))
            if not misbehaving:
                return None, self.release
            limit = mode.get("recover_after")
            if limit is not None and self.misbehaved >= limit:
                return None, self.release
            self.misbehaved += 1
            return mode, self.release


def decode_events(body, encoding):
    encoding = (encoding or "").lower()
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    events, errors = [], []
    lines = [line for line in body.decode("utf-8").split("\n") if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            events.append(json.loads(line))
        except ValueError as error:
            errors.append("line %d: invalid JSON: %s" % (number, error))
    return events, errors


def validate(events, validators):
    errors = []
    for number, event in enumerate(events, start=1):
        if not isinstance(event, dict) or len(event) != 1:
            errors.append("line %d: not an object with one key" % number)
            continue
        key, value = next(iter(event.items()))
        if number == 1 and key != "metadata":
            errors.append("line 1: first line is %r, not metadata" % key)
        if number > 1 and key == "metadata":
            errors.append("line %d: second metadata line" % number)
        validator = validators.get(key)
        if validator is None:
            errors.append("line %d: unknown event key %r" % (number, key))
            continue
        for error in validator.iter_errors(value):
            errors.append("line %d (%s): %s at %s" % (number, key, error.message, list(error.absolute_path)))
    return errors


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lantern-test-apm-server"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    @property
    def state(self):
        return self.server.state

    def setup(self):
        # StreamRequestHandler applies self.timeout to the socket: an idle keep-alive connection then times out.
        self.timeout = self.state.mode.get("idle_timeout")
        super().setup()

    def log_error(self, format, *args):
        if format.startswith("Request timed out"):
            with self.state.lock:
                self.state.idle_closed += 1

    def reply(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(length) if length else b""

    def record(self, entry):
        entry.update({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "at": time.time(),
        })
        with self.state.lock:
            self.state.requests.append(entry)

    def do_GET(self):
        if self.path == "/__recorded":
            with self.state.lock:
                data = json.dumps({"requests": self.state.requests, "mode": self.state.mode,
                                   "idle_closed": self.state.idle_closed}).encode()
            return self.reply(200, data)
        body = self.read_body()
        self.record({"kind": "other", "body": body.decode("utf-8", "replace")})
        status = self.state.mode.get("info_status", 200)
        info = {"build_date": "2026-01-01T00:00:00Z", "build_sha": "lantern-test-sha", "version": "8.15.0"}
        if status != 200:
            info = {"error": "unauthorized"}
        self.reply(status, json.dumps(info).encode())

    def do_POST(self):
        if self.path == "/__mode":
            mode = json.loads(self.read_body() or b"{}")
            self.state.set_mode(mode)
            return self.reply(200, b"{}")
        if self.path == "/__release":
            self.read_body()
            self.state.release.set()
            return self.reply(200, b"{}")
        if not self.path.startswith("/intake/v2/events"):
            body = self.read_body()
            self.record({"kind": "other", "body": body.decode("utf-8", "replace")})
            return self.reply(200, b"{}")

        mode, release = self.state.intake_behaviour()
        if mode and mode.get("crash"):
            # Read a little, then drop the connection mid-request.
            self.rfile.read(min(16, int(self.headers.get("Content-Length") or 0)))
            self.record({"kind": "intake", "status": None, "crashed": True, "events": [], "errors": []})
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
            return
        body = self.read_body()
        try:
            events, errors = decode_events(body, self.headers.get("Content-Encoding"))
        except Exception as error:  # undecodable body: record it as such
            events, errors = [], ["undecodable body: %s" % error]
        errors += validate(events, self.state.validators)
        status = 202
        if mode:
            if mode.get("hang"):
                self.record({"kind": "intake", "status": None, "hung": True, "events": events, "errors": errors})
                release.wait(600)
                self.close_connection = True
                return
            if mode.get("delay"):
                time.sleep(float(mode["delay"]))
            status = int(mode.get("status", 202))
        self.record({"kind": "intake", "status": status, "events": events, "errors": errors})
        if status == 202:
            self.reply(202)
        else:
            self.reply(status, json.dumps({"errors": [{"message": "test server answers %d" % status}]}).encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="{}")
    parser.add_argument("--schemas", default=os.path.join(HERE, "apm-intake-spec"))
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(json.loads(args.mode), load_validators(args.schemas))
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
