import Foundation
import TestSupport

/// The Python handlers and the recording extension the emulator tests run.
enum Fixtures {
    /// One handler whose behaviour the event picks, so one emulator serves several scenarios.
    static let handlers = #"""
    import json, os, sys, time

    def main(event, context):
        action = event.get("action", "ok")
        if action == "ok":
            print("hello from the handler", flush=True)
            return {"requestId": context.aws_request_id, "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                    "remainingMs": context.get_remaining_time_in_millis(), "echo": event,
                    "clientContext": context.client_context.custom if context.client_context else None}
        if action == "fail":
            raise ValueError("boom")
        if action == "sleep":
            time.sleep(event.get("seconds", 5))
            return {"slept": event.get("seconds", 5)}
        if action == "crash":
            os._exit(7)
        if action == "big":
            return "x" * (7 * 1024 * 1024)
        if action == "alloc":
            block = bytearray(b"\x01") * (110 * 1024 * 1024)
            return {"allocated": len(block)}
        if action == "whoami":
            return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
        if action == "concurrent":
            # Counts the invocations in this handler at once across every worker process (INFLIGHT_FILE holds
            # "current peak"), so a test can assert the concurrency from the runtime's side.
            import fcntl
            def bump(delta):
                with open(os.environ["INFLIGHT_FILE"], "r+") as f:
                    fcntl.flock(f, fcntl.LOCK_EX)
                    current, peak = (int(x) for x in (f.read().split() or ["0", "0"]))
                    current += delta
                    peak = max(peak, current)
                    f.seek(0)
                    f.truncate()
                    f.write(f"{current} {peak}")
                    return current
            now = bump(1)
            time.sleep(event.get("seconds", 0.2))
            bump(-1)
            return {"pid": os.getpid(), "inFlight": now, "requestId": context.aws_request_id,
                    "remainingMs": context.get_remaining_time_in_millis(),
                    "initType": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
                    "maxConcurrency": os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY")}
        if action == "flood":
            for i in range(event.get("lines", 5000)):
                print(f"flood line {i} " + "y" * 60)
            sys.stdout.flush()
            return {"lines": event.get("lines", 5000)}
        return {"unknown": action}
    """#

    /// A handler whose import starts a thread that appends a line to HEARTBEAT_FILE every 20 ms: it writes
    /// nothing while the sandbox is frozen.
    static let heartbeat = #"""
    import os, threading, time

    def _beat(path):
        while True:
            with open(path, "a") as f:
                f.write("%f\n" % time.time())
            time.sleep(0.02)

    threading.Thread(target=_beat, args=(os.environ["HEARTBEAT_FILE"],), daemon=True).start()

    def handler(event, context):
        time.sleep((event or {}).get("seconds", 0))
        return {"ok": True}
    """#

    /// A module that cannot be imported: awslambdaric reports `Runtime.ImportModuleError`.
    static let broken = #"""
    import module_that_does_not_exist_anywhere

    def handler(event, context):
        return "never"
    """#

    /// An external extension: registers (as its file name, or EXT_REGISTER_AS), subscribes to the Telemetry API
    /// with a local listener, records every event and delivery as a JSON line in EXT_OUT, and sleeps
    /// EXT_POST_INVOKE_SLEEP seconds of post-invoke work after each INVOKE.
    static let recorder = #"""
    #!/usr/bin/env python3
    import http.client, http.server, json, os, sys, threading, time

    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    me = os.path.basename(sys.argv[0])
    name = os.environ.get("EXT_REGISTER_AS", me)
    out = os.environ["EXT_OUT"]
    lock = threading.Lock()
    gate = os.environ.get("EXT_GATE_FILE")  # deliveries are refused (503) until this file exists

    def record(obj):
        obj["ext"] = me
        obj["at"] = time.time()
        obj["uid"] = os.getuid()
        with lock, open(out, "a") as f:
            f.write(json.dumps(obj) + "\n")

    def call(method, path, body=None, headers=None):
        c = http.client.HTTPConnection(api)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(n)
            if gate and not os.path.exists(gate):
                if any(e.get("type") == "platform.logsDropped" for e in json.loads(body)):
                    record({"kind": "refusedWithDrops"})
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind = "logs" if me.startswith("logs") else "telemetry"
            record({"kind": kind, "path": self.path, "events": json.loads(body)})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        def log_message(self, *args):
            pass

    def beat(path):
        while True:
            with open(path, "a") as f:
                f.write("%f\n" % time.time())
            time.sleep(0.02)

    if os.environ.get("EXT_HEARTBEAT_FILE"):
        threading.Thread(target=beat, args=(os.environ["EXT_HEARTBEAT_FILE"],), daemon=True).start()

    events = json.loads(os.environ.get("EXT_EVENTS", '["INVOKE","SHUTDOWN"]'))
    status, headers, body = call("POST", "/2020-01-01/extension/register", json.dumps({"events": events}),
                                 {"Lambda-Extension-Name": name})
    record({"kind": "register", "status": status, "body": body.decode()})
    if status != 200:
        print(f"{me}: register failed with {status}", flush=True)
        sys.exit(1)
    ext_id = headers["lambda-extension-identifier"]
    if os.environ.get("EXT_INIT_ERROR"):
        # First without the required error-type header (refused), then properly; then exit as Lambda expects.
        s, _, b = call("POST", "/2020-01-01/extension/init/error", "{}", {"Lambda-Extension-Identifier": ext_id})
        record({"kind": "initErrorNoHeader", "status": s, "body": b.decode()})
        s, _, b = call("POST", "/2020-01-01/extension/init/error", "{}",
                       {"Lambda-Extension-Identifier": ext_id, "Lambda-Extension-Function-Error-Type": "Extension.ConfigInvalid"})
        record({"kind": "initError", "status": s, "body": b.decode()})
        sys.exit(1)
    if os.environ.get("EXT_SUBSCRIBE", "telemetry") == "telemetry":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        subscription = {"schemaVersion": os.environ.get("EXT_SCHEMA", "2022-12-13"),
                        "destination": {"protocol": "HTTP", "URI": f"http://sandbox.localdomain:{port}/telemetry"},
                        "types": ["platform", "function", "extension"],
                        "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25}}
        if os.environ.get("EXT_BAD_SUBSCRIPTION"):
            bad = dict(subscription, buffering={"maxItems": 10})
            s, _, b = call("PUT", "/2022-07-01/telemetry", json.dumps(bad),
                           {"Lambda-Extension-Identifier": ext_id, "Content-Type": "application/json"})
            record({"kind": "badSubscribe", "status": s, "body": b.decode()})
        if me.startswith("logs"):
            # A Logs API subscriber (schema 2021-03-18 adds platform.runtimeDone).
            subscription.update(schemaVersion="2021-03-18", types=["platform", "function"],
                                destination={"protocol": "HTTP", "URI": f"http://sandbox.localdomain:{port}/logs"})
            s, _, b = call("PUT", "/2020-08-15/logs", json.dumps(subscription),
                           {"Lambda-Extension-Identifier": ext_id, "Content-Type": "application/json"})
        else:
            s, _, b = call("PUT", "/2022-07-01/telemetry", json.dumps(subscription),
                           {"Lambda-Extension-Identifier": ext_id, "Content-Type": "application/json"})
        record({"kind": "subscribe", "status": s, "body": b.decode()})
    print(f"{me} ready", flush=True)
    post_invoke = float(os.environ.get("EXT_POST_INVOKE_SLEEP", "0"))
    while True:
        s, h, b = call("GET", "/2020-01-01/extension/event/next", headers={"Lambda-Extension-Identifier": ext_id})
        if s != 200:
            record({"kind": "nextFailed", "status": s, "body": b.decode()})
            sys.exit(1)
        event = json.loads(b)
        record({"kind": "event", "event": event})
        if event["eventType"] == "SHUTDOWN":
            time.sleep(0.2)
            record({"kind": "exit"})
            sys.exit(0)
        if post_invoke:
            time.sleep(post_invoke)
            record({"kind": "postInvokeDone", "requestId": event["requestId"]})
    """#

    /// A temporary function folder with the handlers, and optionally an extensions folder with `recorder`.
    struct Workspace {
        var root: URL
        var function: URL
        var extensions: URL
        var records: URL
        /// Written by the `heartbeat` handler and by the recorder when EXT_HEARTBEAT_FILE names them.
        var heartbeats: URL { root.appendingPathComponent("heartbeats.txt") }
        var extensionHeartbeats: URL { root.appendingPathComponent("extension-heartbeats.txt") }

        /// The `concurrent` handler's "current peak" counter, writable by the sandbox user.
        var inFlight: URL { root.appendingPathComponent("inflight.txt") }

        /// Heartbeat lines written so far.
        static func lines(_ file: URL) -> Int {
            ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").count
        }

        init(extensionNames: [String] = ["recorder"]) throws {
            root = try TestPaths.temporaryDirectory("lantern-emulator")
            function = root.appendingPathComponent("function")
            extensions = root.appendingPathComponent("extensions")
            records = root.appendingPathComponent("records.jsonl")
            try FileManager.default.createDirectory(at: function, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: extensions, withIntermediateDirectories: true)
            try Fixtures.handlers.write(to: function.appendingPathComponent("handlers.py"), atomically: true, encoding: .utf8)
            try Fixtures.broken.write(to: function.appendingPathComponent("broken.py"), atomically: true, encoding: .utf8)
            try Fixtures.heartbeat.write(to: function.appendingPathComponent("heartbeat.py"), atomically: true, encoding: .utf8)
            // The extensions run as the unprivileged sandbox user (the emulator drops root): like Lambda's /tmp,
            // the files they write must be theirs to write.
            for file in [records, heartbeats, extensionHeartbeats, inFlight] {
                _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o666])
            }
            for name in extensionNames {
                let path = extensions.appendingPathComponent(name)
                try Fixtures.recorder.write(to: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path.path)
            }
        }

        /// Every JSON line the extensions recorded so far.
        func recorded() -> [[String: Any]] {
            guard let text = try? String(contentsOf: records, encoding: .utf8) else { return [] }
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }
}
