"""The documented proxy chain, run: Debian's nginx with the repository's configuration
(deploy/nginx/registry.conf), in front of gunicorn with the production settings, both started
here on loopback; the throttles must see each client as itself, whatever it writes in
X-Forwarded-For.

Two deployments of docs/deploy.md: nginx alone in front (API_NUM_PROXIES=1; clients connect from
127.0.0.2 and 127.0.0.3), and behind a load balancer (API_NUM_PROXIES=2; this test is the balancer
hop, appending its client's address to X-Forwarded-For as balancers do).
"""
import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path("/usr/sbin/nginx")
CONFIG = ROOT / "deploy" / "nginx" / "registry.conf"
THROTTLED = "/api/v1/"  # the API's root: the anonymous API throttle, per client address

# nginx and gunicorn processes: the slow tier (`make test`, CI), not `make test-quick`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nginx_binary():
    if not NGINX.exists():
        reason = f"{NGINX} is not installed (apt-get install nginx)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 (CI) but {reason}")
        pytest.skip(reason)
    return NGINX


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_config(*, listen: int, upstream: int) -> str:
    """The repository's file, with its `listen` and upstream `server` lines on free loopback ports."""
    text = CONFIG.read_text()
    text, listens = re.subn(r"(?m)^    listen 80;$", f"    listen 127.0.0.1:{listen};", text)
    text, servers = re.subn(r"(?m)^    server 127\.0\.0\.1:8000;", f"    server 127.0.0.1:{upstream};", text)
    assert listens == 1 and servers == 1, "deploy/nginx/registry.conf changed shape: update this test"
    return text


def wait_until_up(port: int, process: subprocess.Popen, log: Path):
    """Bounded readiness wait (not a measurement): /healthz answers through the port."""
    for _attempt in range(300):
        if process.poll() is not None:
            pytest.fail(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"server on {port} never answered: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def started(command, *, env, cwd, log: Path, port: int):
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until_up(port, process, log)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def proxy_chain(tmp_path, *, num_proxies: int, rate: str = "3/hour"):
    """gunicorn (production settings, its own SQLite database and database cache) behind nginx
    with deploy/nginx/registry.conf: yields nginx's port."""
    app_port, nginx_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))},
        "DJANGO_SETTINGS_MODULE": "registry.settings.production", "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}", "API_NUM_PROXIES": str(num_proxies),
        "API_ANON_RATE": rate, "EXPORT_CACHE_DIR": str(tmp_path / "exports"),
        "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "4", "GUNICORN_ACCESSLOG": str(tmp_path / "access.log"),
    }
    # The throttle counters' table (what `migrate` creates): counted by the app, not by this test.
    subprocess.run([sys.executable, "manage.py", "createcachetable"], env=env, cwd=ROOT, check=True)
    prefix = tmp_path / "nginx"
    for name in ("logs", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir(parents=True)
        (prefix / name).chmod(0o777)  # nginx's workers run as another user when started by root
    (prefix / "registry.conf").write_text(site_config(listen=nginx_port, upstream=app_port))
    (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/registry.conf;
}}
""")
    gunicorn = [sys.executable, "-m", "gunicorn", "registry.wsgi", "-c", str(ROOT / "registry" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{app_port}"]
    nginx = [str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    with started(gunicorn, env=env, cwd=ROOT, log=tmp_path / "gunicorn.log", port=app_port), \
            started(nginx, env=os.environ, cwd=prefix, log=tmp_path / "nginx.log", port=nginx_port):
        yield nginx_port


def get(port, path, *, source="127.0.0.1", headers=None) -> int:
    """GET through nginx from a loopback source address: the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_nginx_alone_in_front_two_source_addresses_are_two_clients_and_a_forged_header_changes_nothing(
        nginx_binary, tmp_path):
    with proxy_chain(tmp_path, num_proxies=1) as port:
        first = [get(port, THROTTLED, source="127.0.0.2") for _ in range(4)]
        assert first == [200, 200, 200, 429]
        # The other client has its own count; nothing written in the header moves either.
        assert get(port, THROTTLED, source="127.0.0.3") == 200
        assert get(port, THROTTLED, source="127.0.0.2", headers={"X-Forwarded-For": "198.51.100.77"}) == 429
        assert get(port, THROTTLED, source="127.0.0.3", headers={"X-Forwarded-For": "127.0.0.2"}) == 200
        assert get(port, THROTTLED, source="127.0.0.3", headers={"X-Forwarded-For": "10.1.1.1, 127.0.0.9"}) == 200
        assert get(port, THROTTLED, source="127.0.0.3") == 429  # its 3 requests, whatever they said


def test_behind_a_load_balancer_each_client_it_names_is_one_and_a_forged_header_changes_nothing(
        nginx_binary, tmp_path):
    def through_balancer(port, client, forged=None):
        """What a load balancer sends: what the client sent in X-Forwarded-For, its address appended."""
        chain = f"{forged}, {client}" if forged else client
        return get(port, THROTTLED, headers={"X-Forwarded-For": chain, "X-Forwarded-Proto": "https"})

    with proxy_chain(tmp_path, num_proxies=2) as port:
        assert [through_balancer(port, "198.51.100.1") for _ in range(4)] == [200, 200, 200, 429]
        assert through_balancer(port, "198.51.100.2") == 200  # not every client is the balancer
        assert through_balancer(port, "198.51.100.1", forged="203.0.113.50") == 429
        assert through_balancer(port, "198.51.100.2", forged="198.51.100.1") == 200
        assert through_balancer(port, "198.51.100.2", forged="198.51.100.3, 198.51.100.4") == 200
        assert through_balancer(port, "198.51.100.2") == 429


def test_the_documented_nginx_configuration_is_the_tested_file():
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert "deploy/nginx/registry.conf" in deploy
    config = CONFIG.read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "X-Forwarded-For $remote_addr" not in config  # every client would be the load balancer


# -- gunicorn on its own: one control socket per instance, a warning when it is exposed ----------


def gunicorn_conf():
    import runpy

    return runpy.run_path(str(ROOT / "registry" / "gunicorn.conf.py"))


def test_two_gunicorn_instances_on_one_host_each_have_their_own_control_socket(tmp_path):
    # A short directory (a unix socket's path is at most 107 bytes; pytest-xdist's tmp_path is deep).
    runtime = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
    ports = [free_port(), free_port()]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "GUNICORN_"))},
        "DJANGO_SETTINGS_MODULE": "registry.settings.production", "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}", "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(tmp_path), "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2", "GUNICORN_ACCESSLOG": "/dev/null",
    }

    def gunicorn(port):
        return [sys.executable, "-m", "gunicorn", "registry.wsgi", "-c", str(ROOT / "registry" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}"]

    with started(gunicorn(ports[0]), env=env, cwd=ROOT, log=tmp_path / "a.log", port=ports[0]), \
            started(gunicorn(ports[1]), env=env, cwd=ROOT, log=tmp_path / "b.log", port=ports[1]):
        sockets = sorted(path.name for path in runtime.iterdir())
        for _attempt in range(600):  # started once the workers are up: a bounded wait, not a measure
            if len(sockets) == 2:
                break
            time.sleep(0.1)
            sockets = sorted(path.name for path in runtime.iterdir())
        assert sockets == sorted(f"registry-gunicorn-{os.getuid()}-127.0.0.1-{port}.ctl" for port in ports)
        for name in ("a.log", "b.log"):
            assert "Failed to start control socket" not in (tmp_path / name).read_text()
            assert "other hosts can reach" not in (tmp_path / name).read_text()  # loopback: no warning
    assert not (tmp_path / ".gunicorn").exists()  # not the shared default of every instance
    shutil.rmtree(runtime, ignore_errors=True)


def test_gunicorn_says_nginx_must_be_in_front_when_it_listens_where_other_hosts_reach_it():
    conf = gunicorn_conf()
    assert conf["exposed_binds"](["127.0.0.1:8000", "[::1]:8000", "localhost:8000", "unix:/run/registry.sock"]) == []
    assert conf["exposed_binds"](["0.0.0.0:8000", "192.0.2.10:8000", "[::]:8000", "app.internal:8000"]) == [
        "0.0.0.0:8000", "192.0.2.10:8000", "[::]:8000", "app.internal:8000"]
    warnings = []

    class Server:
        class cfg:
            bind = ["0.0.0.0:8000"]
            settings = {}

            @classmethod
            def set(cls, name, value):
                cls.settings[name] = value

        class log:
            @staticmethod
            def warning(message, *args):
                warnings.append(message % args)

    conf["on_starting"](Server)
    assert len(warnings) == 1 and "Put nginx in front" in warnings[0] and "0.0.0.0:8000" in warnings[0]
    assert Server.cfg.settings["control_socket"].endswith("-0.0.0.0-8000.ctl")


def test_a_control_socket_in_a_deep_directory_keeps_a_path_a_unix_socket_takes(monkeypatch):
    conf = gunicorn_conf()
    deep = "/tmp/" + "d" * 70  # the usual name would pass 107 bytes here
    monkeypatch.setenv("XDG_RUNTIME_DIR", deep)
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    first, second = conf["control_socket_for"](["127.0.0.1:8001"]), conf["control_socket_for"](["127.0.0.1:8002"])
    assert first != second and first.startswith(deep)
    assert len(first.encode()) <= 107 and len(second.encode()) <= 107
