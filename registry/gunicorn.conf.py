"""gunicorn settings for `make serve` and deployments (`gunicorn registry.wsgi -c registry/gunicorn.conf.py`).

Threaded workers (gthread): a slow client or a long export holds one thread, not a whole
worker, so `/healthz` and the pages keep answering. gunicorn hands a connection to a thread only
once its request has started to arrive, and gives it back to the worker's poller when nothing
comes for a few seconds: idle connections hold no thread. In production a buffering reverse
proxy (nginx, see docs/deploy.md) stands in front: it reads whole requests and whole responses
at the client's pace, so the threads here only ever talk to a fast local peer.

gunicorn has no timeout for reading a request's headers or body: a client that drips them holds a
thread for as long as it likes. **nginx must be in front** (deploy/nginx/registry.conf: it reads
whole requests with `client_header_timeout` and `client_body_timeout` before gunicorn sees them),
and gunicorn must listen only where nginx reaches it (127.0.0.1 or a unix socket): bound to any
other address, it says so in its log at start (`on_starting`).

Each instance has its own control socket (`gunicornc`): GUNICORN_CONTROL_SOCKET, else a path
named after the addresses it listens on, so that two instances on one host (two sites, tests,
the benchmark) never take each other's.

Each setting can be changed from the environment (GUNICORN_WORKERS, GUNICORN_THREADS, …).
Database connections: up to workers × threads (32 by default), persistent per thread
(`conn_max_age`): keep PostgreSQL's `max_connections` above that for every app server.
"""
import hashlib
import ipaddress
import os
import re
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Connections a worker keeps at once (threads + kept-alive ones waiting in its poller).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# gthread: a worker whose main loop stops answering this long is replaced. Requests run in the
# threads and may take longer (a full export of 100 000 calls takes over a minute).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Requests larger than a browser or a partner ever sends are refused before any Python runs.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Workers are renewed now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")


def exposed_binds(binds) -> list[str]:
    """The addresses among `binds` that other hosts can reach (not loopback, not a unix socket)."""
    exposed = []
    for address in binds:
        if address.startswith(("unix:", "fd://")):
            continue
        host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
        if host == "localhost":
            continue
        try:
            if ipaddress.ip_address(host).is_loopback:
                continue
        except ValueError:
            pass  # a host name: whatever it resolves to, say so
        exposed.append(address)
    return exposed


def control_socket_for(binds) -> str:
    """This instance's control socket: GUNICORN_CONTROL_SOCKET, else one per listening address."""
    if os.environ.get("GUNICORN_CONTROL_SOCKET"):
        return os.environ["GUNICORN_CONTROL_SOCKET"]
    directory = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    name = re.sub(r"[^A-Za-z0-9.]+", "-", "_".join(binds)).strip("-") or "default"
    path = os.path.join(directory, f"registry-gunicorn-{os.getuid()}-{name[:80]}.ctl")
    if len(path.encode()) > UNIX_SOCKET_PATH_MAX:  # a deep directory: a short name that is still one per address
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        path = os.path.join(directory, f"rg-{os.getuid()}-{digest}.ctl")
    return path


# A unix socket's path is at most 107 bytes on Linux (sun_path): gunicorn cannot bind a longer one.
UNIX_SOCKET_PATH_MAX = 107


def on_starting(server):
    binds = list(server.cfg.bind)  # as given on the command line too
    server.cfg.set("control_socket", control_socket_for(binds))
    if exposed := exposed_binds(binds):
        server.log.warning(
            "gunicorn listens on %s, which other hosts can reach: it has no timeout for a request's headers "
            "or body, so a slow client holds a thread. Put nginx in front (deploy/nginx/registry.conf, "
            "docs/deploy.md) and bind gunicorn to 127.0.0.1 or a unix socket.", ", ".join(exposed),
        )
