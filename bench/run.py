"""`make bench`: the registry measured against its limits and a peer, at 1 000, 10 000 and 100 000 calls.

1. In-process (Django test client, bench settings, DEBUG off), for each size: p50/p95 of named
   requests (searches with the facet cache warm and cold, pages, API, exports built from
   scratch), their SQL queries (count, and each one's own PostgreSQL execution time from
   EXPLAIN (ANALYZE, FORMAT JSON): their sum is the floor), request time / floor, and the plan of
   the slowest query (shown for missed targets).
2. HTTP at the largest size, with wrk on loopback against gunicorn (2 workers): the API list and
   the search page beside references served by the same server (a constant JSON view, a flat
   DRF list of 50 rows, the same under the API's default status filter and order), at
   concurrency 1 and 8; at each size, Datasette (its own venv) on the same calls in SQLite with
   FTS, defaults and `_nosuggest=1`, beside our search on PostgreSQL (and SQLite at 1 000).
3. Memory: RSS of the gunicorn worker while it streams the full CSV export.
4. Load and fault tests (bench/load_fault.py).
Writes bench/results/report.json and report.md; issue 9's targets are printed as met or not (with
the reason and the plan when missed), not asserted.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["BENCH_WITH_SQLITE"] = "1"
os.environ.setdefault("BENCH_DB", "postgres")

RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "work"
SIZES = (1000, 10_000, 100_000)
STARTED = time.perf_counter()

# The search used for every "text" request: common sector words, stemmed and unaccented.
TEXT = "thérapie génique"
TEXT_ONLY = "vecteurs viraux"
THREE_FILTERS = {"theme": "bioproduction", "region": "84", "beneficiary": "sme"}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (`uptime`): the machine is shared."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def code_version() -> str:
    """The commit measured, and whether the working tree had changes besides."""
    snapshot = ROOT / ".bench-commit"  # a copy of a commit's files (git archive), measured apart
    if snapshot.exists():
        return f"{snapshot.read_text().strip()} (its files, copied apart from the shared working tree)"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return head + (" plus uncommitted changes" if dirty else "")


def log(message=""):
    print(message, flush=True)


def qs(params) -> str:
    return "?" + urllib.parse.urlencode(params, doseq=True)


def percentile(values, pct):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# -- Named requests ------------------------------------------------------------------------------


def named_requests(context):
    """(name, path, kind, in_target, options) of each measured request; kind says what it is.

    options: `cache` "warm" (a request first fills the caches; the timed ones find the facet
    counts cached) or "cold" (the cache is emptied before every request: the facet counts are
    computed each time); `fresh_export` (the export directory is emptied before every request:
    each one builds the file); `conditional` (a browser's repeat visit: the request carries the
    `If-None-Match` of the page it got first, so it measures the `304 Not Modified`).
    """
    search_3 = {"q": TEXT, **THREE_FILTERS}
    warm, cold, fresh = {"cache": "warm"}, {"cache": "cold"}, {"fresh_export": True}
    return [
        ("search_text", "/" + qs({"q": TEXT_ONLY}), "search", True, warm),
        ("search_text_cold", "/" + qs({"q": TEXT_ONLY}), "search", True, cold),
        ("search_filters", "/" + qs({"call_type": "call_for_projects", "funder_kind": "regional_authority", "trl": 5}),
         "search", True, warm),
        ("search_filters_cold", "/" + qs({"call_type": "call_for_projects", "funder_kind": "regional_authority",
                                          "trl": 5}), "search", True, cold),
        ("search_text_3_filters_facets", "/" + qs(search_3), "search", True, warm),
        ("search_text_3_filters_facets_cold", "/" + qs(search_3), "search", True, cold),
        ("search_repeat_304", "/" + qs(search_3), "conditional", False, {**warm, "conditional": True}),
        ("timeline", "/calendrier/", "page", False, warm),
        ("call_page", f"/appels/{context['slug']}/", "page", False, warm),
        ("funder_page", f"/financeurs/{context['funder_median']}/", "page", False, warm),
        ("funder_page_largest", f"/financeurs/{context['funder_largest']}/", "page", False, warm),
        ("api_list_50", "/api/v1/calls/?page_size=50", "api", True, warm),
        ("api_sync_page", "/api/v1/calls/" + qs({"updated_since": context["since"], "page_size": 50}), "api", True,
         warm),
        ("search_export_csv", "/export/appels.csv" + qs(search_3), "export", False, fresh),
        ("api_export_csv_full", "/api/v1/exports/calls.csv", "export", False, {**fresh, "optional": True}),
        ("api_export_json_full", "/api/v1/exports/calls.json", "export", False, fresh),
    ]


def request_context():
    """A call page worth showing (rounds, laureates, an earlier edition), the funders with the
    median and the largest number of published calls, and a sync instant (a week ago)."""
    import datetime

    from django.db.models import Count
    from django.utils import timezone

    from calls.models import Call, CallFunder

    call = (
        Call.objects.published().annotate(r=Count("rounds", distinct=True), l=Count("laureates", distinct=True))
        .filter(r__gte=1, l__gte=1, previous_edition__isnull=False).order_by("pk").first()
        or Call.objects.published().order_by("pk").first()
    )
    funders = list(
        CallFunder.objects.filter(call__publication_state="published").values("funder__slug")
        .annotate(n=Count("call", distinct=True)).order_by("n", "funder__slug")
    )
    median, largest = funders[len(funders) // 2], funders[-1]
    since = (timezone.now() - datetime.timedelta(days=7)).replace(microsecond=0)
    return {"slug": call.slug, "since": since.isoformat(), "funder_median": median["funder__slug"],
            "funder_median_calls": median["n"], "funder_largest": largest["funder__slug"],
            "funder_largest_calls": largest["n"]}


def routed(path) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(urllib.parse.urlsplit(path).path)
        return True
    except Resolver404:
        return False


# -- Generated registries kept as templates ----------------------------------------------------


def _templates(size):
    """{name: stored figures} of the kept registries of this size (any fingerprint)."""
    from bench import generate

    with generate.pg_admin_connect(None) as admin:
        rows = admin.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname LIKE %s",
            [f"{generate.TEMPLATE_PREFIX}%\\_{size}"]).fetchall()
    found = {}
    for name, comment in rows:
        try:
            found[name] = json.loads(comment or "{}")
        except ValueError:
            found[name] = {}
    return found


def registry_from_template(size):
    """The bench database replaced by a kept registry of this size, made today by this generator
    (same fingerprint, else the newest of the day, migrated to the schema measured); its read
    model checked on 40 calls against the write path and built again if any differs. The
    generation figures, or None when no registry of this size was kept today."""
    from django.core.management import call_command
    from django.db import connections

    from bench import generate

    exact = generate.template_name(size)
    kept = _templates(size)
    today = time.strftime("%Y-%m-%d")
    if exact in kept:
        name = exact
    else:
        of_today = [n for n, info in kept.items() if str(info.get("saved_at", "")).startswith(today)
                    and info.get("generator", generator_digest()) == generator_digest()]
        if not of_today:
            return None
        name = max(of_today, key=lambda n: kept[n].get("saved_at", ""))
    bench = generate._bench_name()
    connections.close_all()
    t0 = time.perf_counter()
    with generate.pg_admin_connect(None) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{bench}"')
        admin.execute(f'CREATE DATABASE "{bench}" TEMPLATE "{name}"')
    generation = {**kept[name], "from_template": name, "copy_seconds": round(time.perf_counter() - t0, 1)}
    log(f"  {size} calls copied from {name} in {generation['copy_seconds']}s (generated {kept[name].get('saved_at')})")
    if name != exact:
        t1 = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        generation["migrated_seconds"] = round(time.perf_counter() - t1, 1)
        log(f"  migrated to the schema measured in {generation['migrated_seconds']}s")
    differences = generate.check_read_model(log)
    if differences:
        log(f"  the kept read model differs from the write path's on {len(differences)} points: built again")
        generation["read_model"] = generate.build_read_model(0, log)
        generation["read_model_rebuilt_because"] = differences[:5]
        with connections["default"].cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    if name != exact or differences:
        keep_template(size, generation)
    return generation


def generator_digest():
    import hashlib

    return hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes()).hexdigest()[:12]


def keep_template(size, generation):
    """The bench database kept as the template of this size and fingerprint (others stay until the
    end of the run: `drop_other_templates`)."""
    from django.db import connections

    from bench import generate

    name, bench = generate.template_name(size), generate._bench_name()
    connections.close_all()
    t0 = time.perf_counter()
    info = {k: v for k, v in generation.items() if k not in ("from_template", "copy_seconds")}
    info.update({"saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "generator": generator_digest()})
    with generate.pg_admin_connect(None) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{bench}"')
        comment = json.dumps(info, default=str).replace("'", "''")
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")
    log(f"  kept as {name} in {time.perf_counter() - t0:.1f}s")


def drop_other_templates(sizes):
    """Once every size has its template for this fingerprint, the older ones go."""
    from bench import generate

    current = {generate.template_name(size) for size in sizes}
    with generate.pg_admin_connect(None) as admin:
        names = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [generate.TEMPLATE_PREFIX + "%"]).fetchall()]
        if not current <= set(names):
            return
        for name in set(names) - current:
            if not any(name.endswith(f"_{size}") for size in sizes):
                continue  # a size this run did not measure
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


# -- In-process measurement ----------------------------------------------------------------------


def fetch(client, path, headers=None):
    response = client.get(path, headers=headers)
    if response.streaming:
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    return response.status_code, size


def normalise(sql):
    return re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:400]


def explainable(sql):
    """The query EXPLAIN can run (a server-side cursor's SELECT), or None (not a read)."""
    match = re.match(r"\s*DECLARE\s+\S+\s+.*?\bCURSOR\b.*?\bFOR\s+(.*)$", sql, re.S | re.I)
    if match:
        sql = match.group(1)
    return sql if sql.lstrip().upper().startswith(("SELECT", "WITH")) else None


def explain(sql):
    """PostgreSQL's own execution time of one query, in ms (None if not explainable)."""
    from django.db import connection

    sql = explainable(sql)
    if sql is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Execution Time"], plan[0].get("Planning Time", 0.0)


def plan_of(sql, max_lines=70):
    """EXPLAIN (ANALYZE, BUFFERS) of one query, as text (the plan the report shows)."""
    from django.db import connection

    sql = explainable(sql)
    if sql is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    if len(lines) > max_lines:
        lines = lines[:max_lines - 3] + [f"... ({len(lines) - max_lines + 3} lines left out)"] + lines[-2:]
    return "\n".join(lines)


def floor_of(queries, max_explained=60, max_seconds=20.0):
    """Sum of the queries' execution times; with many queries, each shape is sampled and scaled.

    A query that took over `max_seconds` seconds as seen from Django is not run again under
    EXPLAIN ANALYZE (the bench must end in time): its time as seen from Django stands in, flagged.
    Also gives the slowest single query's SQL (its plan is shown when a target is missed).
    """
    slow = [q for q in queries if float(q["time"]) > max_seconds]
    if slow:
        queries = [q for q in queries if float(q["time"]) <= max_seconds]
    shapes = {}
    for query in queries:
        shapes.setdefault(normalise(query["sql"]), []).append(query["sql"])
    total, planning, explained, per_query = 0.0, 0.0, 0, []
    slowest_sql, slowest_ms = None, None
    sample_per_shape = max(1, max_explained // max(1, len(shapes)))
    for sqls in shapes.values():
        sample = sqls if len(sqls) <= sample_per_shape else sqls[:: max(1, len(sqls) // sample_per_shape)][
            :sample_per_shape]
        times = []
        for sql in sample:
            result = explain(sql)
            if result is not None:
                times.append(result)
                if slowest_ms is None or result[0] > slowest_ms:
                    slowest_sql, slowest_ms = sql, result[0]
        if not times:
            continue
        explained += len(times)
        mean_exec = statistics.fmean(t[0] for t in times)
        mean_plan = statistics.fmean(t[1] for t in times)
        total += mean_exec * len(sqls)
        planning += mean_plan * len(sqls)
        per_query.append({"sql": sqls[0][:300], "count": len(sqls), "exec_ms": round(mean_exec, 3),
                          "plan_ms": round(mean_plan, 3)})
    for query in slow:
        total += float(query["time"]) * 1000
        per_query.append({"sql": query["sql"][:300], "count": 1, "exec_ms": round(float(query["time"]) * 1000, 3),
                          "plan_ms": 0.0, "not_explained": "seen from Django: too slow to run twice"})
    per_query.sort(key=lambda q: -q["exec_ms"] * q["count"])
    return {"floor_ms": round(total, 2), "planning_ms": round(planning, 2), "explained": explained,
            "sampled": explained < len(queries), "queries": per_query, "slowest_sql": slowest_sql,
            "slowest_exec_ms": round(slowest_ms, 3) if slowest_ms is not None else None}


def empty_export_directory():
    """Remove the bench's built export files (EXPORT_CACHE_DIR is the bench's own, bench/settings.py)."""
    import shutil

    from django.conf import settings

    directory = Path(getattr(settings, "EXPORT_CACHE_DIR", WORK / "exports"))
    if directory.is_dir() and directory.resolve().is_relative_to(WORK.resolve()):
        shutil.rmtree(directory)


def measure_in_process(size, budget_s, min_reps, max_reps, context=None, previous=None, time_budget=None):
    """The named requests at this size. An optional request (the full CSV export: no target of its
    own, `make bench-fault` builds it too) is left out when its time at the previous size, scaled
    to this one, would take the run past `time_budget` seconds."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.httpbench import RssSampler

    client = Client(HTTP_HOST="localhost")
    context = context or request_context()
    results = {}
    for name, path, kind, in_target, options in named_requests(context):
        if not routed(path):
            log(f"  {name:34s} skipped: {path} is not routed yet")
            results[name] = {"path": path, "skipped": "not routed"}
            continue
        cold = options.get("cache") == "cold"
        fresh = options.get("fresh_export", False)
        before = (previous or {}).get("requests", {}).get(name, {})
        if options.get("optional") and time_budget and "p50_ms" in before:
            estimate = before["p50_ms"] / 1000 * size / previous["size"]
            if time.perf_counter() - STARTED + estimate > time_budget:
                note = (f"left out: ~{estimate:.0f} s expected ({before['p50_ms'] / 1000:.1f} s at {previous['size']} "
                        f"calls) would take the run past its {time_budget} s")
                log(f"  {name:34s} {note}")
                results[name] = {"path": path, "skipped": note}
                continue

        def prepare(cold=cold, fresh=fresh):
            """Before each request (not timed): empty the cache (cold) or the built exports."""
            if cold:
                cache.clear()
            if fresh:
                empty_export_directory()

        headers = None
        if options.get("conditional"):
            # The browser's copy: its ETag (none from a registry without validators: then a 200 is measured).
            etag = client.get(path).get("ETag")
            headers = {"If-None-Match": etag} if etag else None
        if not cold and not fresh:
            fetch(client, path, headers)  # fills the caches (facet counts…): the captured run is a warm one
        # The captured run: its queries (and the floor), and for exports the memory.
        prepare()
        with CaptureQueriesContext(connection) as captured, RssSampler([os.getpid()]) as sampler:
            t0 = time.perf_counter()
            status, size_bytes = fetch(client, path, headers)
            first = (time.perf_counter() - t0) * 1000
        rss = {}
        if kind == "export":
            pid = os.getpid()
            rss = {"rss_before_mib": round(sampler.baseline[pid] / 1024, 1),
                   "rss_peak_mib": round(sampler.peak[pid] / 1024, 1),
                   "rss_growth_mib": round((sampler.peak[pid] - sampler.baseline[pid]) / 1024, 1),
                   "captured_sql_mib": round(sum(len(q["sql"]) for q in captured.captured_queries) / 2**20, 1)}
        queries = list(captured.captured_queries)

        def timed(path=path, headers=headers):
            prepare()
            t0 = time.perf_counter()
            fetch(client, path, headers)
            return (time.perf_counter() - t0) * 1000

        if first > 1500:
            # Slow: the first run is a sample; a second one under 5 s (an export is run once: it is
            # timed, counted and its memory sampled in that run).
            times = [first] + ([timed()] if first < 5000 and kind != "export" else [])
        else:
            reps = max(min_reps, min(max_reps, int(budget_s * 1000 / max(first, 1))))
            if kind == "export":
                reps = max(1, min(max_reps, int(budget_s * 2000 / max(first, 1))))
            times = [timed() for _ in range(reps)]
        served = {}
        if fresh and status == 200:
            # The same export once more, served from the file just built.
            t0 = time.perf_counter()
            fetch(client, path)
            served = {"served_built_ms": round((time.perf_counter() - t0) * 1000, 1)}
        floor = floor_of(queries)
        plan = None
        if floor["slowest_sql"]:
            try:
                plan = plan_of(floor["slowest_sql"])
            except Exception as error:  # noqa: BLE001 - a plan is a diagnosis, never a reason to stop
                plan = f"(no plan: {error!r})"
        p50, p95 = statistics.median(times), percentile(times, 95)
        results[name] = {
            "path": path, "kind": kind, "in_target": in_target, "cache": options.get("cache"),
            "fresh_export": fresh, "status": status, "bytes": size_bytes,
            "reps": len(times), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
            "queries": len(queries), "floor_ms": floor["floor_ms"], "planning_ms": floor["planning_ms"],
            # A 304 reads one row: its time is the framework's, its ratio to that floor says nothing.
            "ratio": round(p50 / floor["floor_ms"], 1) if floor["floor_ms"] and kind != "conditional" else None,
            "floor_sampled": floor["sampled"], "slowest_queries": floor["queries"][:4],
            "slowest_exec_ms": floor["slowest_exec_ms"], "slowest_plan": plan, **rss, **served,
        }
        log(f"  {name:34s} {status} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  n={len(times):3d}  "
            f"queries {len(queries):4d}  floor {floor['floor_ms']:8.1f} ms  ratio "
            f"{results[name]['ratio']}")
    return results


# -- HTTP ----------------------------------------------------------------------------------------


def build_datasette_db(path):
    """The published calls, denormalised (JSON arrays for the many-to-many), with FTS5 via sqlite-utils."""
    import sqlite3

    from bench.httpbench import DATASETTE_BIN
    from calls.models import Call

    t0 = time.perf_counter()
    path.unlink(missing_ok=True)
    calls = Call.objects.published().with_status().with_max_ceiling().order_by("pk")
    links = {}
    for name, field in (("themes", "theme__slug"), ("beneficiaries", "beneficiarytype_id"),
                        ("regions", "region_id"), ("aid_forms", "aidformtype_id")):
        through = getattr(Call, name).through
        for call_id, value in through.objects.values_list("call_id", field).order_by("call_id", field).iterator(
                chunk_size=20000):
            links.setdefault((name, call_id), []).append(value)
    from calls.models import CallFunder

    for call_id, slug in CallFunder.objects.values_list("call_id", "funder__slug").order_by("call_id", "pk").iterator(
            chunk_size=20000):
        links.setdefault(("funders", call_id), []).append(slug)
    columns = ["id", "slug", "title", "summary", "description", "call_type", "scope", "country", "status",
               "opens_on", "closes_on", "next_deadline", "total_budget_eur", "max_ceiling", "trl_min", "trl_max",
               "programme", "funders", "themes", "beneficiaries", "regions", "aid_forms", "updated_at"]
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE calls (id INTEGER PRIMARY KEY, slug TEXT, title TEXT, summary TEXT, description TEXT, "
        "call_type TEXT, scope TEXT, country TEXT, status TEXT, opens_on TEXT, closes_on TEXT, next_deadline TEXT, "
        "total_budget_eur INTEGER, max_ceiling INTEGER, trl_min INTEGER, trl_max INTEGER, programme TEXT, "
        "funders TEXT, themes TEXT, beneficiaries TEXT, regions TEXT, aid_forms TEXT, updated_at TEXT)"
    )
    rows = []
    for call in calls.select_related("programme").iterator(chunk_size=5000):
        rows.append([
            call.pk, call.slug, call.title, call.summary, call.description, call.call_type, call.scope,
            call.country, call.current_status, str(call.opens_on or ""), str(call.closes_on or ""),
            str(call.next_deadline or ""), call.total_budget_eur, call.max_ceiling, call.trl_min, call.trl_max,
            call.programme.name if call.programme_id else None,
            *(json.dumps(links.get((name, call.pk), []), ensure_ascii=False)
              for name in ("funders", "themes", "beneficiaries", "regions", "aid_forms")),
            call.updated_at.isoformat(),
        ])
    db.executemany(f"INSERT INTO calls VALUES ({', '.join('?' * len(columns))})", rows)
    db.commit()
    db.close()
    subprocess.run([str(DATASETTE_BIN / "sqlite-utils"), "enable-fts", str(path), "calls", "title", "summary",
                    "description", "--fts5"], check=True, capture_output=True)
    subprocess.run([str(DATASETTE_BIN / "sqlite-utils"), "optimize", str(path)], check=True, capture_output=True)
    return {"rows": len(rows), "seconds": round(time.perf_counter() - t0, 1)}


def datasette_paths():
    """The faceted full-text query of our search page, in Datasette's terms (HTML, 20 rows)."""
    params = [
        ("_search", TEXT),
        ("themes__arraycontains", THREE_FILTERS["theme"]),
        ("beneficiaries__arraycontains", THREE_FILTERS["beneficiary"]),
        # Our region filter: calls open to an applicant in that region (not regional, or listing it).
        ("_where", f"scope != 'regional' or exists (select 1 from json_each(calls.regions) "
                   f"where value = '{THREE_FILTERS['region']}')"),
        ("status__in", "open,upcoming"),
        ("_facet", "call_type"), ("_facet", "status"), ("_facet_array", "themes"),
        ("_size", "20"),
    ]
    default = "/datasette/calls" + qs(params)
    return {"datasette_defaults": default, "datasette_nosuggest": default + "&_nosuggest=1"}


def http_section(args, report_sizes=None):
    from bench import httpbench as hb

    out = {"runs": [], "notes": []}
    d = args.wrk_seconds
    search_3 = "/" + qs({"q": TEXT, **THREE_FILTERS})
    endpoints = {
        "constant_json (framework ceiling)": "/bench/ref/constant.json",
        "flat_drf_list_50 (naive API)": "/bench/ref/flat-calls/",
        "flat_drf_list_50_status (same status filter and order)": "/bench/ref/flat-calls-status/",
        "api_list_50 (nested)": "/api/v1/calls/?page_size=50",
        "search_page (text + 3 filters + facets)": search_3,
    }
    with hb.gunicorn("gunicorn-postgres") as server:
        for label, path in endpoints.items():
            status, _h, _b = hb.get(server.base + path)
            if status != 200:
                out["notes"].append(f"{label}: {path} answered {status}; skipped")
                log(f"  {label}: {status}, skipped")
                continue
            hb.warm(server.base + path, 2)  # one request in each worker
            for connections in (1, 8):
                result = hb.adaptive_wrk(server.base, path, connections=connections, duration=d, threads=2)
                result.update({"label": label, "server": "gunicorn 2 workers, PostgreSQL"})
                out["runs"].append(result)
                log(f"  c{connections} {label:42s} {result['rps']:8.1f} req/s  p50 {result['latency_ms']['p50']:8.1f} "
                    f"ms  p95 {result['latency_ms']['p95']:8.1f} ms  errors {result['non_2xx_3xx']}+"
                    f"{result['socket_errors']}")
    # The export's memory in a fresh gunicorn worker, when the run's time allows it (the in-process
    # figure of the export comes from a process that has served every other request before).
    export = (report_sizes or {}).get("api_export_csv_full") or {}
    estimate = export.get("p50_ms", 60_000) / 1000
    if args.gunicorn_memory or time.perf_counter() - STARTED + estimate + 200 < args.time_budget:
        out["memory"] = memory_section()
    else:
        out["notes"].append(f"export memory in gunicorn not measured: ~{estimate:.0f} s left out to stay within "
                            f"{args.time_budget} s (use --gunicorn-memory)")
    return out


def peer_section(args, size, with_sqlite):
    """Datasette on the same published calls (SQLite, FTS5) beside our search on SQLite and PostgreSQL."""
    from bench import httpbench as hb

    d = args.wrk_seconds
    search_3 = "/" + qs({"q": TEXT, **THREE_FILTERS})
    peer = {"size": size, "runs": [], "notes": []}
    ds_path = WORK / "datasette.db"
    info = build_datasette_db(ds_path)
    peer["datasette_db"] = info
    log(f"  datasette.db: {info['rows']} published calls, FTS5, built in {info['seconds']}s")
    paths = datasette_paths()
    with hb.datasette(ds_path) as server:
        status, _h, body = hb.get(server.base + paths["datasette_nosuggest"].replace("/calls?", "/calls.json?"))
        summary = json.loads(body) if status == 200 else {}
        peer["datasette_result"] = {
            "status": status, "rows_matched": summary.get("filtered_table_rows_count"),
            # Datasette drops a facet that exceeds facet_time_limit_ms (200 ms by default), silently in JSON.
            "facets_timed_out": [f for f in ("call_type", "status", "themes")
                                 if f not in (summary.get("facet_results") or {})],
            "facets": sorted((summary.get("facet_results") or {}).keys()),
        }
        versions = json.loads(hb.get(server.base + "/-/versions.json")[2])
        peer["datasette_version"] = versions.get("datasette", {}).get("version")
        peer["sqlite_version"] = versions.get("sqlite", {}).get("version")
        for label, path in paths.items():
            hb.get(server.base + path)
            result = hb.adaptive_wrk(server.base, path, connections=1, duration=d, cap=15)
            result.update({"label": label, "server": f"Datasette {peer['datasette_version']} (-i, SQLite FTS5)"})
            peer["runs"].append(result)
            log(f"  c1 {label:45s} {result['rps']:8.1f} req/s  p50 {result['latency_ms']['p50']:8.1f} ms  "
                f"p95 {result['latency_ms']['p95']:8.1f} ms  errors {result['non_2xx_3xx']}+{result['socket_errors']}")
    servers = [("sqlite", "ours_sqlite")] if with_sqlite else []
    if not with_sqlite:
        peer["notes"].append(
            f"our search on SQLite not run at {size} calls: one request takes minutes there (see the analysis)")
    for db, label in [*servers, ("postgres", "ours_postgres")]:
        with hb.gunicorn(f"gunicorn-{db}-peer", db=db) as server:
            hb.warm(server.base + search_3, 2, timeout=300)  # one request in each worker
            result = hb.adaptive_wrk(server.base, search_3, connections=1, duration=d, cap=15)
            result.update({"label": label, "server": f"gunicorn 2 workers, {db}"})
            peer["runs"].append(result)
            log(f"  c1 {label:45s} {result['rps']:8.1f} req/s  p50 {result['latency_ms']['p50']:8.1f} ms  "
                f"p95 {result['latency_ms']['p95']:8.1f} ms  errors {result['non_2xx_3xx']}+{result['socket_errors']}")
    from calls.reading.filters import CallFilterSet

    ours = CallFilterSet({"q": TEXT, **THREE_FILTERS})
    ours.is_valid()
    peer["ours_rows_matched"] = ours.qs.count()
    return peer


def memory_section():
    """Peak RSS of the gunicorn worker that streams the full CSV export (the other worker idles)."""
    from bench import httpbench as hb

    results = {}
    candidates = (("api_export_csv_full", "/api/v1/exports/calls.csv"),
                  ("search_export_csv_all_statuses", "/export/appels.csv?status=open&status=upcoming&status=closed"))
    for label, path in candidates:
        if not routed(path):
            results[label] = {"skipped": "not routed"}
            continue
        with hb.gunicorn("gunicorn-memory", workers=2) as server:
            for _ in range(4):  # each worker has served a page: imports done, connection open
                hb.get(server.base + "/api/v1/calls/?page_size=50")
            workers = server.workers
            with hb.RssSampler(workers) as sampler:
                t0 = time.perf_counter()
                status, _headers, body = hb.get(server.base + path, timeout=600)
                seconds = time.perf_counter() - t0
            growth = {pid: sampler.peak[pid] - sampler.baseline[pid] for pid in workers}
            worker = max(growth, key=growth.get)
            results[label] = {
                "path": path, "status": status, "bytes": len(body), "rows": body.count(b"\n") - 1,
                "seconds": round(seconds, 1), "worker_rss_before_mib": round(sampler.baseline[worker] / 1024, 1),
                "worker_rss_peak_mib": round(sampler.peak[worker] / 1024, 1),
                "growth_mib": round(growth[worker] / 1024, 1),
            }
            log(f"  {label}: {results[label]['rows']} rows, {len(body) / 2**20:.1f} MiB in {seconds:.1f}s; worker RSS "
                f"{results[label]['worker_rss_before_mib']} -> {results[label]['worker_rss_peak_mib']} MiB "
                f"(+{results[label]['growth_mib']} MiB)")
        break  # one full export is enough: the search's is measured only when the API's is not routed
    return results


# -- Targets and report --------------------------------------------------------------------------


def spaced(number) -> str:
    """100000 -> "100 000"."""
    return f"{int(number):,}".replace(",", " ")


def why(r) -> str:
    """Where a request's time goes, from its floor: the database (ratio near 1) or Python."""
    if not r or "p50_ms" not in r:
        return "not measured"
    if not r.get("floor_ms"):
        return f"p50 {r['p50_ms']} ms with no SQL floor measured: the time is Python"
    ratio = r["p50_ms"] / r["floor_ms"]
    where = ("in the database: most of it is the queries' own execution" if ratio <= 1.5 else
             "shared between the database and Python" if ratio <= 3 else
             "in Python (rendering, serialisation, ORM), not in the database")
    return (f"p50 {r['p50_ms']} ms for a SQL floor of {r['floor_ms']} ms over {r['queries']} queries "
            f"(ratio {ratio:.1f}): the time is {where}; slowest query {r.get('slowest_exec_ms')} ms")


def evaluate(report):
    """Issue 9's targets, each with what was measured and, when missed, the requests to explain
    (their slowest query's plan is in the report)."""
    targets = []
    sizes = sorted(int(k) for k in report["sizes"])
    top = str(max(sizes)) if sizes else None
    largest = report["sizes"].get(top, {}).get("requests", {}) if top else {}
    at = f"at {spaced(top)} calls" if top else ""
    if top and int(top) != 100_000:
        at += " (100 000 not run)"

    def p95_target(title, names, limit):
        rows = {n: largest.get(n) for n in names if largest.get(n) and "p95_ms" in largest[n]}
        missed = [n for n, r in rows.items() if r["p95_ms"] > limit]
        targets.append({
            "target": f"{title} {at}, PostgreSQL: p95 <= {limit} ms",
            "measured": "; ".join(f"{n} p95 {r['p95_ms']} ms (p50 {r['p50_ms']}, n={r['reps']})"
                                  for n, r in rows.items()) or "not measured",
            "met": bool(rows) and not missed, "explain": [(top, n) for n in missed],
        })

    # 1. Datasette, at each size.
    for size, peer in sorted(report.get("peer", {}).items(), key=lambda item: int(item[0])):
        runs = {r["label"]: r for r in peer.get("runs", [])}
        ours, theirs = runs.get("ours_postgres"), runs.get("datasette_nosuggest")
        if not (ours and theirs):
            continue
        ratio = ours["latency_ms"]["p95"] / theirs["latency_ms"]["p95"]
        facets = peer.get("datasette_result", {})
        targets.append({
            "target": f"faceted full-text search p95 (wrk, concurrency 1) <= half of Datasette's `_nosuggest=1`, "
                      f"at {spaced(size)} calls, PostgreSQL",
            "measured": f"ours {ours['latency_ms']['p95']} ms vs Datasette {theirs['latency_ms']['p95']} ms: ratio "
                        f"{ratio:.2f} (Datasette computed facets {facets.get('facets')}, dropped "
                        f"{facets.get('facets_timed_out')})",
            "met": ratio <= 0.5, "explain": [(size, "search_text_3_filters_facets")] if ratio > 0.5 else [],
        })
    # 2–3. The search page, facet counts cached and not.
    searches = ["search_text", "search_filters", "search_text_3_filters_facets"]
    p95_target("search page, facet cache warm,", searches, 50)
    p95_target("search page, facet cache cold (emptied before each request),", [f"{n}_cold" for n in searches], 150)
    # 4. The API list against flat DRF lists.
    http = report.get("http", {})
    runs = {(r["label"], r["connections"]): r for r in http.get("runs", [])}
    api_label = "api_list_50 (nested)"
    same = "flat_drf_list_50_status (same status filter and order)"
    naive = "flat_drf_list_50 (naive API)"
    if any(label == api_label for label, _ in runs):
        parts, met = [], True
        for c in (1, 8):
            a, f, n = runs.get((api_label, c)), runs.get((same, c)), runs.get((naive, c))
            if a and f:
                parts.append(f"c{c}: nested {a['rps']} req/s vs flat same filter {f['rps']} req/s "
                             f"({a['rps'] / f['rps']:.2f}x)" + (f", naive flat {n['rps']} req/s" if n else ""))
                met = met and a["rps"] >= f["rps"]
        targets.append({"target": f"API list of 50 nested calls req/s >= flat DRF list of 50 rows under the same "
                                  f"status filter and order (wrk, gunicorn 2 workers) {at}",
                        "measured": "; ".join(parts) or "not measured", "met": bool(parts) and met,
                        "explain": [] if met else [(top, "api_list_50")]})
    # 5–6. Call and funder pages.
    p95_target("call page", ["call_page"], 15)
    context = report["sizes"].get(top, {}).get("context", {}) if top else {}
    p95_target(f"funder page (median funder: {context.get('funder_median_calls')} published calls)", ["funder_page"],
               50)
    p95_target(f"funder page (largest funder: {context.get('funder_largest_calls')} published calls)",
               ["funder_page_largest"], 50)
    # 7. The full JSON export, built from scratch.
    export = largest.get("api_export_json_full") or {}
    if "p50_ms" in export:
        seconds = export["p50_ms"] / 1000
        targets.append({
            "target": f"full JSON export {at}, built from scratch: <= 20 s",
            "measured": f"{seconds:.1f} s for {export['bytes'] / 2**20:.0f} MiB (then served from the built file in "
                        f"{export.get('served_built_ms')} ms)",
            "met": seconds <= 20, "explain": [] if seconds <= 20 else [(top, "api_export_json_full")],
        })
    # 8. Every request within 3x its SQL floor.
    ratios = {n: r for n, r in largest.items() if r.get("ratio") is not None}
    over = [n for n, r in ratios.items() if r["ratio"] > 3]
    targets.append({
        "target": f"every request <= 3x its SQL floor (p50 / sum of the queries' own execution times) {at}",
        "measured": "; ".join(f"{n} {r['ratio']}" for n, r in ratios.items()) or "not measured",
        "met": bool(ratios) and not over, "explain": [(top, n) for n in over],
    })
    # 9. Queries per request across sizes.
    counts = {}
    for size, data in report["sizes"].items():
        for name, r in data.get("requests", {}).items():
            if "queries" in r:
                counts.setdefault(name, {})[size] = r["queries"]
    growing = {n: c for n, c in counts.items() if len(set(c.values())) > 1}
    kinds = {n: r["kind"] for data in report["sizes"].values() for n, r in data.get("requests", {}).items()
             if "kind" in r}
    streamed = {n for n in growing if kinds.get(n) == "export"}
    targets.append({
        "target": "queries per request constant across sizes",
        "measured": ("growing: " + "; ".join(f"{n} " + "/".join(str(v) for v in c.values())
                                             for n, c in growing.items())) if growing else
                    f"all {len(counts)} requests constant (table below)",
        "met": not (set(growing) - streamed),
        "note": ("exports read their rows in chunks: their queries grow with the rows exported, constant per "
                 "chunk" if streamed else ""),
        "explain": [(top, n) for n in set(growing) - streamed],
    })
    # 10. Export memory.
    memory = next((r for r in http.get("memory", {}).values() if "growth_mib" in r), {})
    in_process = largest.get("api_export_csv_full") or {}
    if "growth_mib" in memory:
        targets.append({"target": "export peak RSS growth < 50 MB (full CSV export, largest registry)",
                        "measured": f"gunicorn worker +{memory['growth_mib']} MiB ({memory['worker_rss_before_mib']} "
                                    f"-> {memory['worker_rss_peak_mib']} MiB, {memory['rows']} rows)",
                        "met": memory["growth_mib"] * 1.048576 < 50, "explain": []})
    elif "rss_growth_mib" in in_process:
        growth = in_process["rss_growth_mib"]
        targets.append({"target": "export peak RSS growth < 50 MB (full CSV export, largest registry)",
                        "measured": f"in-process +{growth} MiB ({in_process['rss_before_mib']} -> "
                                    f"{in_process['rss_peak_mib']} MiB while building "
                                    f"{in_process['bytes'] / 2**20:.0f} MiB; of which the captured SQL text: "
                                    f"{in_process['captured_sql_mib']} MiB)",
                        "met": growth * 1.048576 < 50, "explain": []})
    from bench.load_fault import targets as load_fault_targets

    targets += load_fault_targets(report.get("load_fault", {}))
    for target in targets:
        target["why"] = [
            {"size": size, "request": name,
             "why": why(report["sizes"].get(str(size), {}).get("requests", {}).get(name))}
            for size, name in target.get("explain", [])
        ]
    return targets


def write_report(report):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    from bench.report import markdown

    analysis = RESULTS / "analysis.md"  # the profile of missed targets, written by a person after a run
    if analysis.exists():
        report = {**report, "analysis": analysis.read_text()}

    (RESULTS / "report.md").write_text(markdown(report))


def main(argv=None):
    parser = argparse.ArgumentParser(description="The registry's benchmark")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--budget", type=float, default=2.5, help="seconds of repetitions per request and size")
    parser.add_argument("--min-reps", type=int, default=7)
    parser.add_argument("--max-reps", type=int, default=40)
    parser.add_argument("--wrk-seconds", type=int, default=6)
    parser.add_argument("--fault-seconds", type=int, default=60, help="duration of the 32-client load")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--time-budget", type=int, default=900,
                        help="seconds: optional measurements are left out when they would exceed it")
    parser.add_argument("--gunicorn-memory", action="store_true",
                        help="also measure the export's RSS in a gunicorn worker (the in-process run always does)")
    parser.add_argument("--peer-sizes", default="1000,10000,100000", help="sizes at which Datasette is compared")
    parser.add_argument("--sqlite-sizes", default="1000",
                        help="sizes at which our search also runs on SQLite (seconds a request at 10 000, "
                             "minutes at 100 000)")
    parser.add_argument("--skip-fault", action="store_true")
    parser.add_argument("--keep", action="store_true", help="reuse the bench databases if already at the sizes")
    parser.add_argument("--no-templates", action="store_true",
                        help="generate every size even when a registry generated the same day by the same code is "
                             "kept (registry_bench_tpl_<fingerprint>_<size>, see bench.generate.TEMPLATE_INPUTS)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = STARTED

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import generate

    report = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "postgresql": None},
        "config": {"sizes": sizes, "budget_s": args.budget, "min_reps": args.min_reps, "max_reps": args.max_reps,
                   "wrk_seconds": args.wrk_seconds, "text": TEXT, "text_only": TEXT_ONLY,
                   "three_filters": THREE_FILTERS},
        "sizes": {}, "timings": {}, "code": code_version(), "load_average": {"start": load_average()},
    }
    log("== setup: static files, bench databases")
    WORK.mkdir(parents=True, exist_ok=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not args.keep:
        generate.reset_databases(log)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        report["machine"]["postgresql"] = cursor.fetchone()[0]
    templates = not args.no_templates and not args.keep
    for size in sizes:
        log(f"== {size} calls: generate")
        generation = registry_from_template(size) if templates else None
        if generation is None:
            generation = generate.grow(size, log)
            if templates:
                keep_template(size, generation)
        report["sizes"][str(size)] = {"generation": generation}
        connection.close()
        log(f"== {size} calls: in-process requests (Django test client, DEBUG off); load average {load_average()}")
        context = request_context()
        report["sizes"][str(size)]["context"] = context
        report["sizes"][str(size)]["load_average_before"] = load_average()
        earlier = [s for s in sizes if s < size and str(s) in report["sizes"]]
        previous = ({"size": max(earlier), **report["sizes"][str(max(earlier))]} if earlier else None)
        report["sizes"][str(size)]["requests"] = measure_in_process(
            size, args.budget, args.min_reps, args.max_reps, context, previous=previous, time_budget=args.time_budget)
        report["sizes"][str(size)]["load_average_after"] = load_average()
        report["timings"][f"size_{size}_s"] = round(time.perf_counter() - started, 1)
        if args.skip_http or str(size) not in args.peer_sizes.split(","):
            continue
        with_sqlite = str(size) in args.sqlite_sizes.split(",")
        if with_sqlite:
            log(f"== {size} calls: SQLite copy")
            report["sizes"][str(size)]["sqlite_copy"] = generate.copy_to_sqlite(log)
        connection.close()
        log(f"== {size} calls: peer (Datasette) beside our search, wrk at concurrency 1")
        report.setdefault("peer", {})[str(size)] = peer_section(args, size, with_sqlite)
        report["timings"][f"peer_{size}_s"] = round(time.perf_counter() - started, 1)
    if not args.skip_http:
        connection.close()
        log("== HTTP: wrk against gunicorn (2 workers) with the references; memory of the export")
        largest = report["sizes"][str(max(sizes))].get("requests", {})
        report["http"] = http_section(args, largest)
        report["timings"]["http_s"] = round(time.perf_counter() - started, 1)
    if not args.skip_fault:
        from bench import load_fault

        log("== load and fault tests")
        report["load_fault"] = load_fault.run_all(load_seconds=args.fault_seconds, log=log)
        report["timings"]["fault_s"] = round(time.perf_counter() - started, 1)
    if templates:
        drop_other_templates(sizes)
    report["load_average"]["end"] = load_average()
    report["targets"] = evaluate(report)
    report["timings"]["total_s"] = round(time.perf_counter() - started, 1)
    write_report(report)
    log("== targets (printed, not asserted)")
    for target in report["targets"]:
        log(f"  [{'MET' if target['met'] else 'NOT MET'}] {target['target']}: {target['measured']}")
        for reason in target.get("why", []):
            log(f"      why ({reason['request']} at {reason['size']}): {reason['why']}")
    log(f"== done in {report['timings']['total_s']:.0f}s; bench/results/report.md and report.json written")


if __name__ == "__main__":
    main()
