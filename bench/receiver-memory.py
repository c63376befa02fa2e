#!/usr/bin/env python3
"""Peak RSS of the collector's agent receiver under hostile traffic (issue 15, point 5).

Runs `lantern emulate` (never frozen, so the receiver answers while idle) with the given lantern-extension binary
(the layer's, unzipped) as its only extension and a trivial Python handler, then sends, one after the other:
  1. a 64 MiB intake body with its Content-Length;
  2. a slow 200 MB chunked upload (no Content-Length), 64 KiB chunks, for at most 20 s;
  3. 1,000 small intake requests in parallel (1,000 connections at once);
and reads the extension's VmHWM (peak RSS) and VmRSS from /proc after each. Usage:

    python3 bench/receiver-memory.py EXTENSION_BINARY [LANTERN_BINARY]
"""
import json, os, socket, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024
    return fields

def find_pid(binary, deadline):
    while time.time() < deadline:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        args = f.read().split(b"\0")
                except OSError:
                    continue
                if args and os.path.basename(args[0].decode(errors="replace")) == "lantern-extension":
                    return int(entry)
        time.sleep(0.1)
    raise SystemExit("the extension did not start")

def send_all(port, head, body_chunks, pause=0.0, limit=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    started = time.time()
    try:
        s.sendall(head)
        for chunk in body_chunks:
            if limit and time.time() - started > limit:
                break
            s.sendall(chunk)
            if pause:
                time.sleep(pause)
        s.settimeout(5)
        answer = s.recv(200)
    except OSError as error:
        answer = f"(connection: {error})".encode()
    finally:
        s.close()
    return answer.split(b"\r\n")[0].decode(errors="replace")

def main():
    extension = os.path.abspath(sys.argv[1])
    lantern = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", ".build", "debug", "lantern")
    work = tempfile.mkdtemp(prefix="lantern-receiver-memory-")
    os.chmod(work, 0o777)
    os.makedirs(f"{work}/extensions"); os.makedirs(f"{work}/task")
    os.symlink(extension, f"{work}/extensions/lantern-extension")
    with open(f"{work}/task/h.py", "w") as f:
        f.write("def handler(event, context):\n    return {}\n")
    port = free_port()
    env = dict(os.environ, ELASTIC_APM_DATA_RECEIVER_SERVER_PORT=str(port), LANTERN_DB=f"{work}/lantern.db",
               PYTHONPATH=f"{work}/task")
    env.pop("ELASTIC_APM_LAMBDA_APM_SERVER", None)
    python = os.path.join(os.path.dirname(__file__), "..", ".build", "venv", "bin", "python")
    emulator = subprocess.Popen(
        [lantern, "emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--eager-init", "--no-freeze",
         "--quiet", "--extensions", f"{work}/extensions", "--task-root", f"{work}/task", "--",
         os.path.abspath(python), "-m", "awslambdaric", "h.handler"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pid = find_pid(extension, time.time() + 30)
        time.sleep(1.5)
        rows = [("idle after start", "-", status(pid))]
        mib = 1 << 20
        # 1. 64 MiB with Content-Length.
        head = (f"POST /intake/v2/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                f"Content-Length: {64 * mib}\r\n\r\n").encode()
        answer = send_all(port, head, (b"x" * (64 * 1024) for _ in range(1024)))
        rows.append(("64 MiB body (Content-Length)", answer, status(pid)))
        # 2. A slow 200 MB chunked upload.
        chunk = b"x" * (64 * 1024)
        framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        head = b"POST /intake/v2/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
        answer = send_all(port, head, (framed for _ in range(3200)), pause=0.005, limit=20)
        rows.append(("slow 200 MB chunked upload (≤ 20 s)", answer, status(pid)))
        # 3. 1,000 parallel small requests.
        body = b'{"metadata":{"service":{"name":"x","agent":{"name":"python","version":"1"}}}}\n'
        small = (f"POST /intake/v2/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        answers = []
        def one():
            answers.append(send_all(port, small, []))
        threads = [threading.Thread(target=one) for _ in range(1000)]
        for t in threads: t.start()
        for t in threads: t.join()
        ok = sum(1 for a in answers if " 202" in a)
        rows.append(("1,000 parallel small requests", f"{ok}/1000 got 202", status(pid)))
        time.sleep(1)
        rows.append(("idle afterwards", "-", status(pid)))
        print(f"extension: {extension}")
        print("| step | answer | peak RSS (VmHWM) MB | RSS now MB |")
        print("|---|---|---|---|")
        for name, answer, s in rows:
            print(f"| {name} | {answer} | {s.get('VmHWM', 0):.1f} | {s.get('VmRSS', 0):.1f} |")
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=15)
        except subprocess.TimeoutExpired:
            emulator.kill()

if __name__ == "__main__":
    main()
