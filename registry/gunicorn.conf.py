"""gunicorn settings for `make serve` and deployments (`gunicorn registry.wsgi -c registry/gunicorn.conf.py`).

Threaded workers (gthread): a slow client or a long export holds one thread, not a whole
worker, so `/healthz` and the pages keep answering. gunicorn hands a connection to a thread only
once its request has started to arrive, and gives it back to the worker's poller when nothing
comes for a few seconds: idle connections hold no thread. In production a buffering reverse
proxy (nginx, see docs/deploy.md) stands in front: it reads whole requests and whole responses
at the client's pace, so the threads here only ever talk to a fast local peer.

Each setting can be changed from the environment (GUNICORN_WORKERS, GUNICORN_THREADS, …).
Database connections: up to workers × threads (32 by default), persistent per thread
(`conn_max_age`): keep PostgreSQL's `max_connections` above that for every app server.
"""
import os

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
