"""bench/results/report.md from the report's JSON (also: `python -m bench.report` rewrites it)."""
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_ms(value):
    if value is None:
        return ""
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def why_section(report, targets) -> list[str]:
    """For each missed target: where the time of each request goes, and the plan of its slowest query."""
    missed = [t for t in targets if not t["met"] and t.get("why")]
    if not missed:
        return []
    out = ["", "## Why targets are missed: the slowest query of each request, with its plan", "",
           "For each missed target, each request concerned: its p50 against its SQL floor (the sum of its "
           "queries' own execution times; a ratio near 1 means the database is the cost, a large one Python), "
           "then `EXPLAIN (ANALYZE, BUFFERS)` of its slowest query, run again after the measurement.", ""]
    shown = set()
    for target in missed:
        out += [f"### {target['target']}", ""]
        for reason in target["why"]:
            size, name = str(reason["size"]), reason["request"]
            out.append(f"- **{name}** at {size} calls: {reason['why']}.")
            r = report["sizes"].get(size, {}).get("requests", {}).get(name, {})
            if (size, name) in shown:
                out.append("  (plan above)")
                continue
            shown.add((size, name))
            if r.get("slowest_plan"):
                out += ["", "```", r["slowest_plan"], "```", ""]
        out.append("")
    return out


def queries_section(report) -> list[str]:
    sizes = list(report["sizes"])
    names = []
    for data in report["sizes"].values():
        for name in data.get("requests", {}):
            if name not in names:
                names.append(name)
    rows = []
    for name in names:
        counts = [report["sizes"][size].get("requests", {}).get(name, {}).get("queries") for size in sizes]
        known = [c for c in counts if c is not None]
        rows.append((name, *counts, "yes" if len(set(known)) <= 1 else "no"))
    return ["", "## Queries per request across sizes", "",
            table(["request", *(f"{size} calls" for size in sizes), "constant"], rows), ""]


def markdown(report) -> str:
    out = ["# Benchmark report", ""]
    m = report["machine"]
    load = report.get("load_average", {})
    loads = "; ".join(
        [f"start {load['start']}"] if load.get("start") else []
    ) + "".join(
        f"; {size} calls: {data['load_average_before']} before its requests, {data.get('load_average_after')} after"
        for size, data in report["sizes"].items() if data.get("load_average_before")
    ) + (f"; end {load['end']}" if load.get("end") else "")
    out += [
        f"Run {report['generated_at']} on {m['cpus']} CPUs, Python {m['python']}, PostgreSQL {m['postgresql']} "
        f"(wall time of the whole run: {report['timings'].get('total_s', 0) / 60:.1f} min), code "
        f"{report.get('code', '?')}. "
        "The machine is shared and noisy: ratios measured in the same run count more than absolute times.",
        "",
        f"Load average (1, 5, 15 min, from /proc/loadavg as `uptime` shows it) on the 2 cores: {loads}.",
        "",
        "## Targets (printed, not asserted)",
        "",
    ]
    targets = report.get("targets", [])
    out.append(table(["target", "measured", "met"], [
        (t["target"], t["measured"] + (f" — {t['note']}" if t.get("note") else ""),
         "✅ met" if t["met"] else "❌ not met")
        for t in targets
    ]))
    out += why_section(report, targets)
    out += queries_section(report)
    out += ["", "## Generated registries", ""]
    rows = []
    for size, data in report["sizes"].items():
        g = data.get("generation", {})
        index = g.get("read_model") or {}
        if g.get("from_template"):
            size = (f"{size} (copied in {g.get('copy_seconds')} s from {g['from_template']}, generated "
                    f"{g.get('saved_at')})")
        rows.append((size, g.get("seconds"),
                     f"{index.get('seconds')} ({index.get('calls')} calls; workers: entry_of "
                     f"{index.get('entry_of_s')} s, writes {index.get('write_s')} s)" if index else "",
                     g.get("analyze_seconds"),
                     ", ".join(f"{k.split('.')[-1]} {v}" for k, v in (g.get("rows") or {}).items())))
    out.append(table(["calls", "generation (s)", "read model (s)", "VACUUM ANALYZE (s)", "rows added"], rows))
    out += ["", "The read model (`CallIndex`, `CallPeriod`) is built by `bench.generate.build_read_model`: "
            "`calls.reading.read_model.entry_of` for each call (the write path's rules), bulk inserts, and the write "
            "path's search vector expression compiled once, in two worker processes.", ""]
    contexts = [(size, data["context"]) for size, data in report["sizes"].items() if data.get("context")]
    if contexts:
        out += ["Pages measured: " + "; ".join(
            f"at {size} calls, call `{c['slug']}`, median funder `{c['funder_median']}` "
            f"({c['funder_median_calls']} published calls), largest funder `{c['funder_largest']}` "
            f"({c['funder_largest_calls']})" for size, c in contexts) + ".", ""]
    out += ["", "## In-process requests (Django test client, bench settings, DEBUG off, PostgreSQL)", "",
            "p50/p95 over `n` timed runs: a first run warms and captures the queries (left out of the timings "
            "unless it took over 1.5 s, when it counts and at most one more is run; exports run once at that "
            "point); *queries*: SQL "
            "queries of one request (CaptureQueriesContext); *floor*: sum of each query's own execution time "
            "(EXPLAIN (ANALYZE, FORMAT JSON) → Execution Time; sampled and scaled when a request has many queries); "
            "*ratio*: p50 / floor. Searches: *warm*, a request first fills the caches, the timed ones find "
            "the facet counts cached; *_cold*, the cache is emptied before every request. Exports: the export "
            "directory is emptied before every request, so each one builds the file; *served* is the same "
            "request once more, served from the file built.", ""]
    names = []
    for data in report["sizes"].values():
        for name in data.get("requests", {}):
            if name not in names:
                names.append(name)
    for name in names:
        rows = []
        for size, data in report["sizes"].items():
            r = data.get("requests", {}).get(name)
            if not r:
                continue
            if "skipped" in r:
                rows.append((size, "skipped: " + r["skipped"], "", "", "", "", "", ""))
                continue
            rows.append((size, r["status"], r["reps"], fmt_ms(r["p50_ms"]), fmt_ms(r["p95_ms"]), r["queries"],
                         fmt_ms(r["floor_ms"]), r["ratio"])
                        + ((fmt_ms(r.get("served_built_ms")),) if "served_built_ms" in r else ()))
        path = next((d["requests"][name]["path"] for d in report["sizes"].values()
                     if name in d.get("requests", {})), "")
        out += [f"### {name}", "", f"`GET {path}`", ""]
        served = any(len(row) > 8 for row in rows)
        out.append(table(["calls", "status", "n", "p50 ms", "p95 ms", "queries", "floor ms", "ratio"]
                         + (["served ms"] if served else []), rows))
        largest = list(report["sizes"].values())[-1].get("requests", {}).get(name, {})
        if largest.get("slowest_queries"):
            out += ["", "Slowest queries at the largest size (execution ms × count):", ""]
            for q in largest["slowest_queries"][:3]:
                out.append(f"- {q['exec_ms']} ms × {q['count']}: `{q['sql'][:220]}…`")
        out.append("")
    http = report.get("http")
    if http:
        out += ["## HTTP: wrk on loopback against gunicorn (2 sync workers), largest registry", ""]
        out.append(table(["request", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "requests", "errors"], [
            (r["label"], r["connections"], r["rps"], fmt_ms(r["latency_ms"]["p50"]), fmt_ms(r["latency_ms"]["p95"]),
             fmt_ms(r["latency_ms"]["p99"]), r["requests"], r["non_2xx_3xx"] + r["socket_errors"])
            for r in http.get("runs", [])
        ]))
        for note in http.get("notes", []):
            out.append(f"- {note}")
        memory = http.get("memory", {})
        if memory:
            out += ["### Memory while streaming the full CSV export", ""]
            out.append(table(["export", "rows", "MiB", "seconds", "worker RSS before", "peak", "growth (MiB)"], [
                (name, r.get("rows"), round(r.get("bytes", 0) / 2**20, 1), r.get("seconds"),
                 r.get("worker_rss_before_mib"), r.get("worker_rss_peak_mib"), r.get("growth_mib"))
                for name, r in memory.items() if "skipped" not in r
            ]))
            out.append("")
    for size, peer in report.get("peer", {}).items():
        out += [f"## Peer: Datasette on the same published calls (SQLite, FTS5), {size} calls, wrk at concurrency 1",
                ""]
        out.append(table(["server", "request", "req/s", "p50 ms", "p95 ms", "requests", "errors"], [
            (r["server"], r["label"], r["rps"], fmt_ms(r["latency_ms"]["p50"]), fmt_ms(r["latency_ms"]["p95"]),
             r["requests"], r["non_2xx_3xx"] + r["socket_errors"])
            for r in peer.get("runs", [])
        ]))
        for note in peer.get("notes", []):
            out.append(f"- {note}")
        ds = peer.get("datasette_result", {})
        out += ["", f"Datasette {peer.get('datasette_version')} (SQLite {peer.get('sqlite_version')}), "
                    f"`datasette serve -i`, table built in {peer.get('datasette_db', {}).get('seconds')} s: "
                    f"{ds.get('rows_matched')} rows matched (ours: {peer.get('ours_rows_matched')}), "
                    f"facets computed {ds.get('facets')}, timed out {ds.get('facets_timed_out')}. "
                    "Datasette's query: `_search` (FTS5, unicode61, no stemming), `themes__arraycontains`, "
                    "`beneficiaries__arraycontains`, `_where` for the region rule, `status__in` (status "
                    "precomputed in the table), three facets (`call_type`, `status`, `_facet_array=themes`), "
                    "`_size=20`. Ours computes the status from the dates at query time and 8 facets.", ""]
    lf = report.get("load_fault")
    if lf:
        out += ["## Load and fault tests (gunicorn, 2 sync workers, largest registry)", ""]
        load = lf.get("load", {})
        if load:
            out += [f"- **Load**: {load['clients']} clients for {load['seconds']} s over {len(load['paths'])} paths: "
                    f"{load['requests']} requests, {load['rps']} req/s, p50 {load['latency_ms']['p50']} ms, p99 "
                    f"{load['latency_ms']['p99']} ms; statuses {load['statuses']}; non-2xx/3xx "
                    f"{load['non_2xx_3xx']}, socket errors {load['socket_errors']} → "
                    f"{'no errors ✅' if load['met'] else 'errors ❌'}"
                    + (f" (left out: {load['left_out']})" if load.get("left_out") else "")]
        kill = lf.get("kill_worker", {})
        if kill:
            out += [f"- **Worker killed mid-load**: SIGKILL of worker {kill.get('killed_pid')} at "
                    f"{kill.get('killed_at_s')} s of {kill['seconds']} s with {kill['clients']} clients: "
                    f"{kill['requests']} requests, {kill['lost']} lost (bound: {kill['in_flight_bound']} in flight "
                    f"on a sync worker), socket errors {kill['socket_errors']}, statuses {kill['statuses']}; worker "
                    f"replaced by the master: {kill['replaced']} → {'✅' if kill['met'] else '❌'}"]
        away = lf.get("database_away", {})
        if away:
            statuses = {k: f"{v['status']} {v['content_type'].split(';')[0]}" for k, v in away["away"].items()}
            out += [f"- **Database away** (TCP proxy in front of PostgreSQL cut): {statuses}; a 5 s load of 8 "
                    f"clients while away: {away['load_while_away']['statuses']} (p99 "
                    f"{away['load_while_away']['latency_ms']['p99']} ms); proxy restored: first 200 on /healthz "
                    f"after {away['recovery']['first_200_after_s']} s, then {away['after']}; checks {away['met']}"]
        full = lf.get("full_exports", {})
        if full:
            parts = [f"{kind.upper()} {r['status']}, {r.get('rows')}/{full['calls']} calls, {r['mib']} MiB in "
                     f"{r['seconds']} s, valid {r['valid']}, Content-Length matches {r['content_length_matches']}"
                     for kind, r in full.items() if isinstance(r, dict) and "status" in r]
            out += [f"- **Full exports** (gunicorn with registry/gunicorn.conf.py: 2 workers × 16 threads; each file "
                    f"built whole, then sent): {'; '.join(parts)} → {'✅' if full['met'] else '❌'}"
                    + (f" (measured {full['measured_at']})" if full.get("measured_at") else "")]
        slow = lf.get("slow_clients", {})
        if slow:
            h = slow["healthz"]
            exports = ", ".join(
                f"{r['kind']} {r['status']} in {r['seconds']} s ({'valid' if r['valid'] else 'invalid'})"
                for r in slow.get("export_results", []))
            out += [f"- **Slow clients and exports** (same gunicorn): {slow['slow_clients']} slow clients "
                    f"({slow['slow_kinds']['headers']} dripping request headers, "
                    f"{slow['slow_kinds']['reader']} reading an answer 256 bytes a second; "
                    f"{slow['slow_connections']} connections in all) while "
                    f"{slow['exports']} full exports of {slow['calls']} calls ran ({exports}); /healthz every 0.25 s "
                    f"for {slow['seconds']} s: {h['requests']} answers {h['statuses']}, p50 {h['p50_ms']} ms, p95 "
                    f"{h['p95_ms']} ms, max {h['max_ms']} ms, {h['over_1s']} over 1 s → {'✅' if slow['met'] else '❌'}"
                    + (f" (measured {slow['measured_at']})" if slow.get("measured_at") else "")]
        out.append("")
    analysis = report.get("analysis")
    if analysis:
        out += ["## Why targets are missed, and what is left", "", analysis, ""]
    out += ["## Timings of the run", "", ", ".join(f"{k} {v}" for k, v in report["timings"].items()), ""]
    return "\n".join(out)


def main():
    report = json.loads((RESULTS / "report.json").read_text())
    analysis = RESULTS / "analysis.md"
    if analysis.exists():
        report["analysis"] = analysis.read_text()
    (RESULTS / "report.md").write_text(markdown(report))
    print("written", RESULTS / "report.md", file=sys.stderr)


if __name__ == "__main__":
    main()
