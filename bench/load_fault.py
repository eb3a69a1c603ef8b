"""Load and fault tests against gunicorn (2 workers) on loopback, on the bench's PostgreSQL registry.

1. Load: 32 concurrent clients for 60 s (wrk -c32 -d60s) over a mix of pages and API calls:
   no response outside 2xx/3xx, no socket error.
2. Worker killed mid-load: SIGKILL one gunicorn worker halfway through a 32-client load; the
   requests lost are at most those in flight on that worker (a sync worker serves one at a time).
3. Database away: the server reaches PostgreSQL through a TCP proxy on loopback that the test cuts
   (the machine's PostgreSQL keeps running): pages answer 503 with the HTML page, /api/ a JSON 503,
   /healthz a JSON 503 (never a traceback); when the proxy comes back, service resumes by itself.

Run by `make bench` (after the benchmark) or alone: `make bench-fault` / `python -m bench.load_fault`.
"""
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
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


def run_all(load_seconds=60, log=print):
    results = {}
    with hb.gunicorn("gunicorn-load") as server:
        log(f"  load: 32 clients for {load_seconds}s…")
        results["load"] = load_test(server, load_seconds)
        r = results["load"]
        log(f"  load: {r['requests']} requests, {r['rps']} req/s, p50 {r['latency_ms']['p50']} ms, p99 "
            f"{r['latency_ms']['p99']} ms; non-2xx/3xx {r['non_2xx_3xx']}, socket errors {r['socket_errors']}")
        log("  kill a worker mid-load…")
        results["kill_worker"] = kill_worker_test(server)
        r = results["kill_worker"]
        log(f"  kill: {r['requests']} requests, lost {r['lost']} (bound: {r['in_flight_bound']} in flight), "
            f"worker {r.get('killed_pid')} replaced: {r['replaced']}")
    log("  database away (TCP proxy cut)…")
    results["database_away"] = database_away_test(log)
    r = results["database_away"]
    log(f"  away: {json.dumps({k: v['status'] for k, v in r['away'].items()})}; recovery {r['recovery']}; "
        f"met {r['met']}")
    return results


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    results = run_all(args.seconds)
    out = ROOT / "bench" / "results" / "load_fault.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
