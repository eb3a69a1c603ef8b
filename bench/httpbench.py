"""Servers and the load generator for the bench: gunicorn, Datasette, wrk, a TCP proxy, RSS probes.

Everything listens on and targets 127.0.0.1 only; every server is started in its own process
group and stopped (SIGTERM, then SIGKILL) by the context managers, whatever happens.
"""
import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORK = BENCH_DIR / "work"
PYTHON_BIN = ROOT / ".venv" / "bin"
DATASETTE_BIN = BENCH_DIR / ".venv-datasette" / "bin"
LOOPBACK = "127.0.0.1"

WRK_SCRIPT = r"""
-- Per-status counts and a JSON summary (wrk prints p50/p90/p99 only; p95 comes from here).
local threads = {}
local paths = {__PATHS__}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  index = 0
end

function request()
  if #paths == 0 then
    return wrk.format(nil, nil)
  end
  index = index + 1
  local path = paths[((index - 1 + __OFFSET__) % #paths) + 1]
  return wrk.format("GET", path)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  io.write("WRK_JSON ")
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "stdev": %.1f, "p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, table.concat(parts, ", ")))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(url_base: str, paths, *, connections=1, duration=5, timeout=30, threads=1, offset=0, drain_after=True):
    """Run wrk against url_base with `paths` in turn; return its JSON summary with rps and errors."""
    if isinstance(paths, str):
        paths = [paths]
    WORK.mkdir(exist_ok=True)
    script = WORK / f"wrk-{os.getpid()}-{threading.get_ident()}.lua"
    script.write_text(
        WRK_SCRIPT.replace("__PATHS__", ", ".join(lua_string(p) for p in paths)).replace("__OFFSET__", str(offset))
    )
    command = [
        "wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "--timeout", f"{timeout}s",
        "-s", str(script), url_base + paths[0],
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout + 30)
    script.unlink(missing_ok=True)
    for line in completed.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result = json.loads(line[len("WRK_JSON "):])
            break
    else:
        raise RuntimeError(f"wrk gave no summary: {completed.stdout}\n{completed.stderr}")
    seconds = result["duration_us"] / 1e6
    result["rps"] = round(result["requests"] / seconds, 1) if seconds else 0.0
    lat = result["latency_us"]
    result["latency_ms"] = {k: round(v / 1000, 2) for k, v in lat.items()}
    ok = sum(n for status, n in result["statuses"].items() if 200 <= int(status) < 400)
    result["ok"] = ok
    result["non_2xx_3xx"] = result["requests"] - ok if result["statuses"] else result["errors"]["status"]
    result["socket_errors"] = sum(result["errors"][k] for k in ("connect", "read", "write", "timeout"))
    result["connections"], result["duration_s"] = connections, duration
    result["paths"] = paths
    if drain_after:
        drain(url_base)
    return result


def get(url, *, headers=None, timeout=30):
    """(status, headers, body) of a GET, HTTP errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def adaptive_wrk(base, path, *, connections, duration, workers=2, cap=20, timeout=300, **kwargs):
    """wrk for at least `duration` s, longer (up to `cap`) when one request is slow, so that each
    connection completes a few requests; the time of one request is measured first."""
    t0 = time.monotonic()
    get(base + path, timeout=timeout)
    one = time.monotonic() - t0
    needed = 3 * one * max(1.0, connections / workers)
    seconds = int(min(cap, max(duration, needed + 1)))
    return wrk(base, path, connections=connections, duration=seconds, timeout=timeout, **kwargs)


def drain(base, probe="/bench/ref/constant.json", seconds=300):
    """Wait until the server has finished what a stopped wrk left queued (its answers go nowhere):
    a trivial request must come back fast twice in a row."""
    deadline, fast = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and fast < 2:
        t0 = time.monotonic()
        try:
            get(base + probe, timeout=seconds)
        except OSError:
            pass
        fast = fast + 1 if time.monotonic() - t0 < 0.05 else 0


def warm(url, concurrency=2, timeout=120):
    """`concurrency` simultaneous GETs (one in each worker of a sync gunicorn), waited for."""
    threads = [threading.Thread(target=get, args=(url,), kwargs={"timeout": timeout}) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wait_until_up(url, seconds=60, accept=(200,)):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            status, _headers, _body = get(url, timeout=5)
            if status in accept:
                return True
            last = status
        except (OSError, urllib.error.URLError) as error:
            last = error
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up: {last}")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss_kib(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    except OSError:
        pass
    return values


def stop_process_group(process, grace=10):
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class Server:
    """A server process started in its own session (process group), with its log file."""

    def __init__(self, name, command, *, env, port, ready_path, cwd=ROOT, ready_accept=(200,)):
        self.name, self.port = name, port
        self.base = f"http://{LOOPBACK}:{port}"
        WORK.mkdir(exist_ok=True)
        self.log_path = WORK / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_until_up(self.base + ready_path, accept=ready_accept)
        except Exception:
            self.stop()
            raise

    @property
    def workers(self):
        return children(self.process.pid)

    def stop(self):
        stop_process_group(self.process)
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def bench_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_") or k in ("BENCH_DATABASE_URL",)}
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def gunicorn(name, *, workers=2, db="postgres", extra_env=None, extra_args=()):
    port = free_port()
    env = bench_env(BENCH_DB=db, **(extra_env or {}))
    command = [
        str(PYTHON_BIN / "gunicorn"), "registry.wsgi:application", "--workers", str(workers),
        "--bind", f"{LOOPBACK}:{port}", "--chdir", str(ROOT), "--log-level", "warning", "--timeout", "120",
        "--graceful-timeout", "5", *extra_args,
    ]
    return Server(name, command, env=env, port=port, ready_path="/bench/ref/constant.json")


def datasette(db_path, *, name="datasette"):
    port = free_port()
    command = [str(DATASETTE_BIN / "datasette"), "serve", "-i", str(db_path), "-h", LOOPBACK, "-p", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_"))}
    return Server(name, command, env=env, port=port, ready_path="/-/versions.json")


class TcpProxy:
    """A TCP relay on loopback in front of PostgreSQL, that the fault test cuts and restores.

    `cut()` closes the listening socket and every relayed connection (the database "goes
    away": connections break, new ones are refused); `restore()` listens again on the same port.
    """

    def __init__(self, target=(LOOPBACK, 5432), port=None):
        self.target, self.port = target, port or free_port()
        self.listener = None
        self.sockets = set()
        self.lock = threading.Lock()
        self.accepting = None

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(128)
        self.listener = listener
        self.accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self.accepting.start()

    start = restore

    def _accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            with self.lock:
                self.sockets.discard(source)
                self.sockets.discard(sink)

    def cut(self):
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    stop = cut


class RssSampler:
    """Samples the RSS of some processes every `interval` seconds in a thread; keeps the peaks."""

    def __init__(self, pids, interval=0.02):
        self.pids, self.interval = list(pids), interval
        self.baseline = {pid: rss_kib(pid).get("VmRSS", 0) for pid in self.pids}
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in self.pids:
                rss = rss_kib(pid).get("VmRSS", 0)
                if rss > self.peak.get(pid, 0):
                    self.peak[pid] = rss
            time.sleep(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
