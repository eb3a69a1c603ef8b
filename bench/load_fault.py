"""Load and fault tests against gunicorn (2 workers) on loopback, on the bench's PostgreSQL registry.

1. Load: 32 concurrent clients for 60 s (wrk -c32 -d60s) over a mix of pages and API calls:
   no response outside 2xx/3xx, no socket error.
2. Worker killed mid-load: SIGKILL one gunicorn worker halfway through a 32-client load; the
   requests lost are at most those in flight on that worker (a sync worker serves one at a time).
3. Database away: the server reaches PostgreSQL through a TCP proxy on loopback that the test cuts
   (the machine's PostgreSQL keeps running): pages answer 503 with the HTML page, /api/ a JSON 503,
   /healthz a JSON 503 (never a traceback); when the proxy comes back, service resumes by itself.
4. Full exports (gunicorn as `make serve` runs it: registry/gunicorn.conf.py, threaded workers):
   the JSON and the CSV export of the whole registry, one after the other, complete and valid
   (the JSON parses and holds every published call, the CSV has a row of every column for each,
   the body is as long as its Content-Length). Exports are built once per registry version
   (calls/reading/exports.py): each is downloaded twice from an empty export directory, the first
   download timing the build, the second the file served as built.
5. Slow clients and exports: 10 slow clients hold connections (5 drip their request headers a
   few bytes at a time, 5 read a large answer a few bytes at a time) while 4 full exports run
   (2 JSON, 2 CSV) from an empty export directory: one build at a time, the other requests
   answered a 503 with Retry-After, which they follow, as a client does, until they get their file;
   /healthz is asked every 0.25 s until the exports end: each answer under 1 s.
6. A crowd during a build: 64 concurrent export requests (JSON, CSV and search CSVs each with a
   new query string) at once, first from an empty export directory, then after a write moved the
   registry version (a previous file of each full export exists); /healthz is asked every 0.25 s
   meanwhile: each answer under 1 s. No request waits for the build (calls/reading/exports.py): one of
   them builds, the others get the previous file (200, `X-Export-Stale`) or a 503 with
   `Retry-After`; every answer is one of those, and the search CSVs start no other build.

Run by `make bench` (after the benchmark) or alone: `make bench-fault` / `python -m bench.load_fault`;
`make bench-fault BENCH_FAULT_ARGS="--only full_exports,slow_clients"` runs some of them, on the
bench database as it is, and merges their figures into bench/results/report.{json,md}.
"""
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import httpbench as hb  # noqa: E402

# The mix each load client cycles through (offset per connection): what visitors and partners ask.
MIX = [
    "/api/v1/calls/?page_size=50",
    "/healthz",
    "/api/v1/calls/?page_size=20&theme=vaccins&status=closed",
    "/" + "?" + urllib.parse.urlencode({"q": "vaccins ARN", "region": "11"}),
    "/api/v1/themes/",
    "/bench/ref/constant.json",
]


def call_paths(base, count=4):
    """A few call pages, from the API (or the flat reference list)."""
    for path in (f"/api/v1/calls/?page_size={count}&status=open", "/bench/ref/flat-calls/"):
        status, _headers, body = hb.get(base + path, timeout=120)
        if status == 200:
            rows = json.loads(body).get("results", [])
            slugs = [row["slug"] for row in rows if "slug" in row][:count]
            if slugs:
                return [f"/appels/{slug}/" for slug in slugs]
    return []


def usable(base, paths):
    """The paths of the mix that answer 200 now (an endpoint not built yet is left out, and said)."""
    kept, left = [], []
    for path in paths:
        status, _headers, _body = hb.get(base + path, timeout=120)
        (kept if status == 200 else left).append(path if status == 200 else f"{path} ({status})")
    return kept, left


def load_test(server, seconds, connections=32):
    paths, left_out = usable(server.base, MIX + call_paths(server.base))
    result = hb.wrk(server.base, paths, connections=connections, duration=seconds, timeout=60, threads=2)
    return {
        "clients": connections, "seconds": seconds, "paths": paths, "left_out": left_out,
        "requests": result["requests"], "rps": result["rps"], "latency_ms": result["latency_ms"],
        "statuses": result["statuses"], "non_2xx_3xx": result["non_2xx_3xx"], "socket_errors": result["errors"],
        "errors_total": result["non_2xx_3xx"] + result["socket_errors"],
        "met": result["non_2xx_3xx"] == 0 and result["socket_errors"] == 0,
    }


def kill_worker_test(server, seconds=20, connections=32):
    """SIGKILL one worker at mid-load; count what wrk lost, and check the master replaced it."""
    paths, _left = usable(server.base, MIX)
    before = server.workers
    outcome = {}

    def killer():
        time.sleep(seconds / 2)
        victim = server.workers[0]
        outcome["killed_pid"] = victim
        outcome["killed_at_s"] = seconds / 2
        os.kill(victim, signal.SIGKILL)

    thread = threading.Thread(target=killer)
    thread.start()
    result = hb.wrk(server.base, paths, connections=connections, duration=seconds, timeout=60, threads=2)
    thread.join()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(server.workers) < len(before):
        time.sleep(0.2)
    after = server.workers
    lost = result["non_2xx_3xx"] + result["socket_errors"]
    # A sync worker serves one request at a time: at most one was in flight on the killed worker
    # (its connection is reset: wrk counts a read error). Queued connections wait in the shared
    # listen backlog and are served by the other worker and the replacement.
    in_flight_bound = 1
    return {
        "clients": connections, "seconds": seconds, "requests": result["requests"], "rps": result["rps"],
        "statuses": result["statuses"], "socket_errors": result["errors"], "lost": lost,
        "in_flight_bound": in_flight_bound, "workers_before": before, "workers_after": after,
        "replaced": len(after) == len(before) and outcome.get("killed_pid") not in after,
        "met": lost <= in_flight_bound, **outcome,
    }


def database_away_test(log=print):
    """Cut the proxy between the server and PostgreSQL, check the 503s, restore, time the recovery."""
    proxy = hb.TcpProxy()
    proxy.start()
    checks = {
        "page": ("/", {}),
        "search": ("/?q=vaccins", {}),
        "api": ("/api/v1/calls/?page_size=5", {}),
        "api_json_accept": ("/api/v1/calls/?page_size=5", {"Accept": "application/json"}),
        "healthz": ("/healthz", {}),
    }
    report = {"proxy_port": proxy.port}
    try:
        with hb.gunicorn("gunicorn-fault", db="proxy", extra_env={"BENCH_PROXY_PORT": proxy.port}) as server:
            report["before"] = {name: hb.get(server.base + path, headers=h, timeout=60)[0]
                                for name, (path, h) in checks.items()}
            proxy.cut()
            t_cut = time.monotonic()
            away = {}
            for name, (path, headers) in checks.items():
                # Twice: the first request finds its persistent connection broken, the next must
                # fail to connect (refused): both must be a clean 503.
                for attempt in (1, 2):
                    status, response_headers, body = hb.get(server.base + path, headers=headers, timeout=60)
                    text = body.decode("utf-8", "replace")
                    away[f"{name}#{attempt}"] = {
                        "status": status, "content_type": response_headers.get("Content-Type", ""),
                        "retry_after": response_headers.get("Retry-After"),
                        "traceback": "Traceback" in text or "OperationalError" in text,
                        "json": _is_json(text), "body": text[:160],
                    }
            report["away"] = away
            report["away_seconds"] = round(time.monotonic() - t_cut, 1)
            # A short load while the database is away: every answer is a 503, quickly.
            load = hb.wrk(server.base, ["/api/v1/calls/?page_size=5", "/healthz", "/"], connections=8,
                          duration=5, timeout=30, threads=2)
            report["load_while_away"] = {"requests": load["requests"], "statuses": load["statuses"],
                                         "socket_errors": load["errors"], "latency_ms": load["latency_ms"]}
            proxy.restore()
            t_back = time.monotonic()
            attempts, statuses = 0, []
            while time.monotonic() - t_back < 60:
                attempts += 1
                status = hb.get(server.base + "/healthz", timeout=60)[0]
                statuses.append(status)
                if status == 200:
                    break
                time.sleep(0.1)
            report["recovery"] = {"first_200_after_s": round(time.monotonic() - t_back, 2), "attempts": attempts,
                                  "statuses": statuses[-10:]}
            report["after"] = {name: hb.get(server.base + path, headers=h, timeout=60)[0]
                               for name, (path, h) in checks.items()}
    finally:
        proxy.cut()
    html_ok = all(v["status"] == 503 and "text/html" in v["content_type"] and not v["traceback"]
                  for k, v in report["away"].items() if k.startswith(("page", "search")))
    api_ok = all(v["status"] == 503 and v["json"] and not v["traceback"]
                 for k, v in report["away"].items() if k.startswith(("api", "healthz")))
    load_statuses = {int(s) for s in report["load_while_away"]["statuses"]}
    report["met"] = {
        "html_503_page": html_ok, "json_503_api_and_healthz": api_ok,
        "no_500_while_away": 500 not in load_statuses,
        "resumes": all(s == 200 for s in report["after"].values()),
    }
    return report


def _is_json(text):
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


# -- Full exports, slow clients ------------------------------------------------------------------

GTHREAD_ARGS = ("-c", str(ROOT / "registry" / "gunicorn.conf.py"), "--access-logfile", "/dev/null")
EXPORTS = {"json": "/api/v1/exports/calls.json", "csv": "/api/v1/exports/calls.csv"}
# The server's export directory (EXPORT_CACHE_DIR): emptied before each test, so that the
# exports are built while it runs, not found from an earlier run.
EXPORT_DIR = ROOT / "bench" / "work" / "exports"


def empty_export_directory():
    shutil.rmtree(EXPORT_DIR, ignore_errors=True)


def published_count():
    """How many calls the exports must hold (read from the bench database)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.db import connection

    from calls.models import Call

    count = Call.objects.published().count()
    connection.close()
    return count


def download(url, *, timeout=900):
    """GET url into a temporary file: (status, headers, file, bytes, seconds)."""
    t0 = time.monotonic()
    file = tempfile.TemporaryFile()
    size = 0
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), file, 0, round(time.monotonic() - t0, 1)
    with response:
        while chunk := response.read(1 << 20):
            file.write(chunk)
            size += len(chunk)
        status, headers = response.status, dict(response.headers)
    file.seek(0)
    return status, headers, file, size, round(time.monotonic() - t0, 1)


def download_when_built(url, *, cap_seconds=900):
    """`download()`, asked again after `Retry-After` while the server answers 503 (an export being
    built, calls/reading/exports.py), as a client would, within `cap_seconds`."""
    started = time.monotonic()
    while True:
        status, headers, file, size, seconds = download(url)
        if status != 503 or time.monotonic() - started > cap_seconds:
            return status, headers, file, size, round(time.monotonic() - started, 1)
        file.close()
        time.sleep(min(30, max(1, int(headers.get("Retry-After") or 5))))


def validate_export(kind, file, expected):
    """Whether an export file is complete: every published call, well-formed."""
    import io

    from calls.reading.exports import CSV_COLUMNS

    if kind == "json":
        try:
            data = json.load(io.TextIOWrapper(file, encoding="utf-8"))
        except ValueError as error:
            return {"valid": False, "error": str(error)[:200]}
        calls = data.get("calls", [])
        return {"valid": len(calls) == expected and all("slug" in c for c in calls) and "licence" in data,
                "rows": len(calls)}
    reader = csv.reader(io.TextIOWrapper(file, encoding="utf-8", newline=""))
    header = next(reader, [])
    rows = bad = 0
    for row in reader:
        rows += 1
        bad += len(row) != len(header)
    return {"valid": header == CSV_COLUMNS and rows == expected and not bad, "rows": rows, "bad_rows": bad}


def export_once(base, kind, expected):
    return checked_download(kind, download(base + EXPORTS[kind]), expected)


def checked_download(kind, downloaded, expected):
    """A `download()` of an export, validated (its file closed)."""
    status, headers, file, size, seconds = downloaded
    with file:
        check = validate_export(kind, file, expected) if status == 200 else {"valid": False}
    declared = headers.get("Content-Length")
    return {"kind": kind, "status": status, "seconds": seconds, "bytes": size, "mib": round(size / 2**20, 1),
            "content_length_matches": declared is not None and int(declared) == size, **check}


def full_exports_test(server, expected, log=print):
    """The JSON and CSV exports of the whole registry, one after the other, each downloaded twice
    (built, then served as built): complete and valid."""
    empty_export_directory()
    results = {}
    for kind in EXPORTS:
        results[kind] = export_once(server.base, kind, expected)
        results[kind]["again"] = export_once(server.base, kind, expected)
        for when, r in (("built", results[kind]), ("again", results[kind]["again"])):
            log(f"  full export {kind} ({when}): {r['status']}, {r.get('rows')} of {expected} calls, {r['mib']} MiB "
                f"in {r['seconds']} s, valid {r['valid']}, Content-Length matches {r['content_length_matches']}")
    downloads = [r for kind in EXPORTS for r in (results[kind], results[kind]["again"])]
    return {"calls": expected, **results,
            "met": all(r["status"] == 200 and r["valid"] and r["content_length_matches"] for r in downloads)}


class SlowClient(threading.Thread):
    """One connection held the way a slow client holds it, reconnecting when the server closes it.

    "headers": sends a request line, then one header every `pause` seconds, never the blank line
    that ends the headers. "reader": asks for a large answer and reads 256 bytes every `pause`.
    """

    def __init__(self, base, kind, *, pause=1.0, path="/api/v1/calls/?page_size=500&status=closed"):
        super().__init__(daemon=True)
        self.address = urllib.parse.urlsplit(base).netloc.split(":")
        self.kind, self.pause, self.path = kind, pause, path
        self.stop = threading.Event()
        self.connections = self.bytes = 0

    def connect(self):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect((self.address[0], int(self.address[1])))
        self.connections += 1
        return sock

    def run(self):
        while not self.stop.is_set():
            try:
                with self.connect() as sock:
                    if self.kind == "headers":
                        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                        n = 0
                        while not self.stop.wait(self.pause):
                            n += 1
                            sock.sendall(f"X-Slow-{n}: {n}\r\n".encode())
                    else:
                        sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                        while not self.stop.wait(self.pause):
                            data = sock.recv(256)
                            if not data:
                                break
                            self.bytes += len(data)
            except OSError:
                self.stop.wait(self.pause)


def slow_clients_test(server, expected, *, slow=10, exports=4, cap_seconds=900, log=print):
    """/healthz latency while `slow` slow clients hold connections and `exports` full exports run."""
    empty_export_directory()
    clients = [SlowClient(server.base, "headers" if i % 2 == 0 else "reader") for i in range(slow)]
    for client in clients:
        client.start()
    time.sleep(2)  # the slow clients are connected and holding
    downloads = {}

    # The exports are downloaded while /healthz is probed, and validated once the probing ends:
    # decoding a 272 MiB JSON file holds this process's GIL for seconds, which the probe loop,
    # in the same process, would have counted as the server's latency.
    def run_export(i):
        kind = "json" if i % 2 == 0 else "csv"
        downloads[i] = (kind, download_when_built(server.base + EXPORTS[kind], cap_seconds=cap_seconds))

    exporters = [threading.Thread(target=run_export, args=(i,), daemon=True) for i in range(exports)]
    started = time.monotonic()
    for thread in exporters:
        thread.start()
    latencies, statuses = probe_healthz_while(server, exporters, until=started + cap_seconds)
    for client in clients:
        client.stop.set()
    for thread in exporters:
        thread.join(timeout=5)
    for client in clients:
        client.join(timeout=5)
    ordered = sorted(latencies)
    healthz = {
        "requests": len(latencies), "statuses": statuses,
        "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1) if ordered else None,
        "max_ms": round(ordered[-1], 1) if ordered else None,
        "over_1s": sum(1 for v in latencies if v >= 1000),
    }
    done = [checked_download(*downloads[i], expected) for i in sorted(downloads)]
    result = {
        "slow_clients": slow, "slow_kinds": {"headers": sum(c.kind == "headers" for c in clients),
                                             "reader": sum(c.kind == "reader" for c in clients)},
        "slow_connections": sum(c.connections for c in clients), "exports": exports, "calls": expected,
        "seconds": round(time.monotonic() - started, 1), "healthz": healthz, "export_results": done,
        "exports_completed_valid": sum(1 for r in done if r["status"] == 200 and r["valid"]),
        "workers": "gthread (registry/gunicorn.conf.py)",
    }
    result["met"] = bool(ordered) and healthz["over_1s"] == 0 and set(statuses) == {"200"}
    log(f"  slow clients: {slow} holding, {exports} exports ({result['exports_completed_valid']} completed valid "
        f"in {result['seconds']} s); /healthz n={healthz['requests']} p50 {healthz['p50_ms']} ms p95 "
        f"{healthz['p95_ms']} ms max {healthz['max_ms']} ms, over 1 s: {healthz['over_1s']}, statuses {statuses}")
    return result


def move_registry_version():
    """A write as far as the exports see it: the registry version moves (the bench database)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.db import connection, transaction

    from calls.reading import read_model

    with transaction.atomic():
        version = read_model.bump_version(using="default")
    connection.close()
    return version


def crowd_request(url, *, timeout=300):
    """GET url, reading (and dropping) the body: status, seconds, bytes, and the export headers."""
    t0 = time.monotonic()
    size = 0
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
        error.read()
    except OSError as error:
        return {"status": "error", "error": str(error)[:120], "seconds": round(time.monotonic() - t0, 3)}
    else:
        with response:
            while chunk := response.read(1 << 20):
                size += len(chunk)
            status, headers = response.status, response.headers
    return {"status": status, "seconds": round(time.monotonic() - t0, 3), "bytes": size,
            "stale": headers.get("X-Export-Stale") == "true", "built_at": headers.get("X-Export-Built-At"),
            "retry_after": headers.get("Retry-After")}


def crowd_paths(crowd):
    """What the crowd asks: the two full exports and, one in four, a search CSV with a new query string."""
    paths = []
    for i in range(crowd):
        if i % 4 == 3:
            paths.append("/export/appels.csv?" + urllib.parse.urlencode({"q": f"vaccins {i}"}))
        else:
            paths.append(EXPORTS["json" if i % 2 == 0 else "csv"])
    return paths


def export_crowd_test(server, *, crowd=64, log=print):
    """`crowd` concurrent export requests during a build, twice (first build; rebuild after a
    write), while /healthz is probed every 0.25 s: each /healthz under 1 s, every export answer
    a 200 (fresh or the previous file) or a 503 with Retry-After."""
    rounds = {}
    for name in ("first_build", "rebuild_after_write"):
        if name == "first_build":
            empty_export_directory()
        else:
            move_registry_version()
        paths = crowd_paths(crowd)
        answers = [None] * crowd
        start = threading.Barrier(crowd + 1)

        def ask(i, start=start, answers=answers, paths=paths):
            start.wait()
            answers[i] = crowd_request(server.base + paths[i])

        threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(crowd)]
        for thread in threads:
            thread.start()
        start.wait()
        started = time.monotonic()
        latencies, statuses = probe_healthz_while(server, threads, until=started + 900)
        for thread in threads:
            thread.join(timeout=5)
        done = [a for a in answers if a is not None]
        by_status = {}
        for answer in done:
            by_status[str(answer["status"])] = by_status.get(str(answer["status"]), 0) + 1
        busy = [a for a in done if a["status"] == 503]
        fresh = [a for a in done if a["status"] == 200 and not a["stale"]]
        ordered = sorted(latencies)
        rounds[name] = {
            "requests": crowd, "answered": len(done), "statuses": by_status,
            "fresh": len(fresh), "stale": sum(1 for a in done if a["status"] == 200 and a["stale"]),
            "busy_503": len(busy), "busy_with_retry_after": sum(1 for a in busy if a["retry_after"]),
            "busy_max_s": max((a["seconds"] for a in busy), default=None),
            "builds_seen": len({a["built_at"] for a in fresh}),
            "slowest_s": max((a["seconds"] for a in done), default=None),
            "seconds": round(time.monotonic() - started, 1),
            "healthz": {
                "requests": len(latencies), "statuses": statuses,
                "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
                "max_ms": round(ordered[-1], 1) if ordered else None,
                "over_1s": sum(1 for v in latencies if v >= 1000),
            },
        }
        r = rounds[name]
        r["met"] = (len(done) == crowd and set(by_status) <= {"200", "503"}
                    and r["busy_with_retry_after"] == r["busy_503"]
                    and r["healthz"]["over_1s"] == 0 and set(statuses) <= {"200"})
        log(f"  export crowd ({name}): {crowd} requests in {r['seconds']} s: {by_status}, fresh {r['fresh']}, "
            f"stale {r['stale']}, 503 {r['busy_503']} (slowest 503 {r['busy_max_s']} s), slowest answer "
            f"{r['slowest_s']} s; /healthz n={r['healthz']['requests']} max {r['healthz']['max_ms']} ms, "
            f"over 1 s: {r['healthz']['over_1s']}")
    return {**rounds, "crowd": crowd, "met": all(r["met"] for r in rounds.values())}


def run_exports_and_slow_clients(only, log=print):
    results = {}
    expected = published_count()
    with hb.gunicorn("gunicorn-gthread", extra_args=GTHREAD_ARGS, extra_env={"EXPORT_CACHE_DIR": EXPORT_DIR}) as server:
        if "full_exports" in only:
            log(f"  full exports of {expected} published calls (gthread workers)…")
            results["full_exports"] = full_exports_test(server, expected, log)
        if "slow_clients" in only:
            log("  10 slow clients and 4 full exports; /healthz every 0.25 s…")
            results["slow_clients"] = slow_clients_test(server, expected, log=log)
        if "export_crowd" in only:
            log("  64 concurrent export requests during a build; /healthz every 0.25 s…")
            results["export_crowd"] = export_crowd_test(server, log=log)
    return results


def targets(load_fault) -> list[dict]:
    """The targets of tests 4 and 5, for the report (printed, not asserted)."""
    out = []
    full = load_fault.get("full_exports")
    if full:
        out.append({
            "target": "full JSON and CSV exports complete and valid (every published call, Content-Length)",
            "measured": "; ".join(f"{k}: {full[k]['status']}, {full[k].get('rows')}/{full['calls']} calls, "
                                  f"{full[k]['mib']} MiB in {full[k]['seconds']} s"
                                  + (f" (again: {full[k]['again']['seconds']} s)" if "again" in full[k] else "")
                                  for k in EXPORTS if k in full),
            "met": full["met"],
        })
    slow = load_fault.get("slow_clients")
    if slow:
        h = slow["healthz"]
        out.append({
            "target": "/healthz under 1 s while 10 slow clients hold connections and 4 full exports run",
            "measured": f"{h['requests']} probes over {slow['seconds']} s: p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms, "
                        f"max {h['max_ms']} ms, {h['over_1s']} over 1 s; exports completed valid "
                        f"{slow['exports_completed_valid']}/{slow['exports']} ({slow['calls']} calls)",
            "met": slow["met"],
        })
    crowd = load_fault.get("export_crowd")
    if crowd:
        out.append({
            "target": "/healthz under 1 s while 64 export requests arrive during a build (none waits for it)",
            "measured": "; ".join(
                f"{name}: {r['statuses']}, fresh {r['fresh']}, stale {r['stale']}, 503 {r['busy_503']}, "
                f"slowest answer {r['slowest_s']} s, /healthz max {r['healthz']['max_ms']} ms "
                f"({r['healthz']['over_1s']} over 1 s)"
                for name, r in crowd.items() if isinstance(r, dict)),
            "met": crowd["met"],
        })
    return out


PARTS = ("load", "kill_worker", "database_away", "full_exports", "slow_clients", "export_crowd")


def run_all(load_seconds=60, log=print, only=PARTS):
    results = {}
    if {"full_exports", "slow_clients", "export_crowd"} & set(only):
        log("== full exports and slow clients (gthread workers)")
        results.update(run_exports_and_slow_clients(only, log))
    if not {"load", "kill_worker", "database_away"} & set(only):
        return results
    with hb.gunicorn("gunicorn-load") as server:
        if "load" in only:
            log(f"  load: 32 clients for {load_seconds}s…")
            results["load"] = load_test(server, load_seconds)
            r = results["load"]
            log(f"  load: {r['requests']} requests, {r['rps']} req/s, p50 {r['latency_ms']['p50']} ms, p99 "
                f"{r['latency_ms']['p99']} ms; non-2xx/3xx {r['non_2xx_3xx']}, socket errors {r['socket_errors']}")
        if "kill_worker" in only:
            log("  kill a worker mid-load…")
            results["kill_worker"] = kill_worker_test(server)
            r = results["kill_worker"]
            log(f"  kill: {r['requests']} requests, lost {r['lost']} (bound: {r['in_flight_bound']} in flight), "
                f"worker {r.get('killed_pid')} replaced: {r['replaced']}")
    if "database_away" in only:
        log("  database away (TCP proxy cut)…")
        results["database_away"] = database_away_test(log)
        r = results["database_away"]
        log(f"  away: {json.dumps({k: v['status'] for k, v in r['away'].items()})}; recovery {r['recovery']}; "
            f"met {r['met']}")
    return results


def probe_healthz_while(server, threads, *, until):
    """/healthz asked every 0.25 s while any of `threads` runs (and not past the instant `until`):
    (latencies in ms, {status: count})."""
    latencies, statuses = [], {}
    while any(t.is_alive() for t in threads) and time.monotonic() < until:
        t0 = time.monotonic()
        try:
            status = hb.get(server.base + "/healthz", timeout=30)[0]
        except OSError:
            status = "error"
        latencies.append((time.monotonic() - t0) * 1000)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        time.sleep(0.25)
    return latencies, statuses


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--only", default=",".join(PARTS), help=f"some of: {', '.join(PARTS)}")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    only = [part.strip() for part in args.only.split(",") if part.strip()]
    results = run_all(args.seconds, only=only)
    out = ROOT / "bench" / "results" / "load_fault.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"written {out}")
    merge_into_report(results)


def merge_into_report(results):
    """Put these figures in bench/results/report.json (the other figures kept) and rewrite report.md."""
    from bench.report import RESULTS, markdown

    path = RESULTS / "report.json"
    if not path.exists():
        return
    report = json.loads(path.read_text())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    measured = {name: {**value, "measured_at": stamp} for name, value in results.items()}
    report.setdefault("load_fault", {}).update(measured)
    names = {t["target"] for t in targets(results)}
    report["targets"] = [t for t in report.get("targets", []) if t["target"] not in names] + targets(results)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    analysis = RESULTS / "analysis.md"
    if analysis.exists():
        report["analysis"] = analysis.read_text()
    (RESULTS / "report.md").write_text(markdown(report))
    print(f"merged into {path} and report.md")


if __name__ == "__main__":
    main()
