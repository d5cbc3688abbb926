"""The scale-out cluster on one machine: Rasa replicas and action servers behind nginx.

For tests and demos of what runs on several hosts in production (docs/deployment.md):
PostgreSQL for the knowledge base and Rasa's tracker store, Redis for Rasa's lock store and
the gateway's shared state, N Rasa servers, M action servers, one gateway, nginx in front.
"""

from __future__ import annotations

import getpass
import os
import pwd
import signal
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.ops.stack import (
    APP_PYTHON,
    actions_command,
    check_alive,
    ensure_secrets,
    launcher_env,
    rasa_command,
    spawn,
    stop_all,
    wait_answering,
    write_endpoints,
)
from bot.ops.training import rasa_env
from settings import Settings

NGINX = Path("/usr/sbin/nginx")
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@dataclass(frozen=True)
class Ports:
    """Where each process listens; the two load-balancer ports are nginx's."""

    rasa_lb: int
    actions_lb: int
    web: int
    rasa: tuple[int, ...]
    actions: tuple[int, ...]

    @classmethod
    def default(cls, rasa: int, actions: int) -> Ports:
        """Scratch ports clear of `make run` (5005, 5055, 8000)."""
        return cls(
            5105, 5165, 8100, tuple(range(5111, 5111 + rasa)), tuple(range(5171, 5171 + actions))
        )


def cluster_settings(settings: Settings, ports: Ports) -> Settings:
    """The settings every cluster process shares: PostgreSQL, Redis, the load balancers."""
    host = settings.host
    database = settings.database_url
    if make_url(database).get_backend_name() == "sqlite":
        database = DEFAULT_DATABASE_URL
    tracker = settings.tracker_url
    if make_url(tracker).get_backend_name() == "sqlite":
        tracker = database
    return replace(
        settings,
        database_url=database,
        tracker_url=tracker,
        redis_url=settings.redis_url or DEFAULT_REDIS_URL,
        var_dir=settings.var_dir / "cluster",
        rasa_port=ports.rasa_lb,
        web_port=ports.web,
        actions_url=f"http://{host}:{ports.actions_lb}/webhook",
        message_rasa_urls=(f"http://{host}:{ports.rasa_lb}",),
        replica_rasa_urls=tuple(f"http://{host}:{p}" for p in ports.rasa),
    )


def unreachable_services(settings: Settings) -> list[str]:
    """What is missing (nginx, PostgreSQL, Redis), each with how to get it running."""
    problems = []
    if not NGINX.exists():
        problems.append(f"nginx is not installed ({NGINX}): apt-get install nginx-light (or nginx)")
    for name, url in (("database", settings.database_url), ("tracker", settings.tracker_url)):
        engine = create_engine(url)
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as exc:
            problems.append(
                f"PostgreSQL ({name}: {make_url(url).render_as_string(hide_password=True)}) is "
                f"not reachable ({exc.__class__.__name__}); start it with: {START_POSTGRES}"
            )
        finally:
            engine.dispose()
    try:
        redis.Redis.from_url(settings.redis_url or DEFAULT_REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        shown = redis_without_password(settings.redis_url or DEFAULT_REDIS_URL)
        problems.append(
            f"Redis ({shown}) is not reachable ({exc.__class__.__name__}); "
            f"start it with: {START_REDIS}"
        )
    return problems


def nginx_config(directory: Path, ports: Ports, host: str) -> str:
    """nginx in the foreground, unprivileged paths under ``directory``, two upstreams."""

    def servers(port_list: tuple[int, ...]) -> str:
        # A failed server is left out for 5 s, then tried again.
        return "\n".join(
            f"        server {host}:{p} max_fails=1 fail_timeout=5s;" for p in port_list
        )

    temp = directory / "temp"
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    proxy = """            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_connect_timeout 2s;
            # The forms' replies take a few seconds, and a conversation waits its turn
            # behind Rasa's lock; the gateway gives up after its own timeout.
            proxy_read_timeout 60s;
            proxy_send_timeout 60s;
            # nginx's default: only a request not yet sent (connection refused or timed out)
            # goes to the next server. Without `non_idempotent` a POST that reached a server
            # that then died is NOT re-sent here: the gateway retries it, deliberately (the
            # delivery key makes the feedback submit idempotent).
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
"""
    return f"""# Generated by bot/ops/cluster.py; do not edit (it is rewritten at every start).
{user}worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "logs" / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    # Rasa sends the action server the whole conversation: keep bodies and replies in memory.
    client_max_body_size 8m;
    client_body_buffer_size 8m;
    proxy_max_temp_file_size 0;
    upstream rasa {{
{servers(ports.rasa)}
        keepalive 32;
    }}
    upstream actions {{
{servers(ports.actions)}
        keepalive 32;
    }}
    server {{
        listen {host}:{ports.rasa_lb};
        location / {{
            proxy_pass http://rasa;
{proxy}        }}
    }}
    server {{
        listen {host}:{ports.actions_lb};
        location / {{
            proxy_pass http://actions;
{proxy}        }}
    }}
}}
"""


@dataclass
class Cluster:
    """The cluster's processes, started in order and stopped in reverse."""

    settings: Settings  # from cluster_settings()
    model: Path
    ports: Ports
    token: str = ""
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.settings.var_dir

    def _env(self, **extra: str) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.update(launcher_env(s))
        env.update(
            {
                "AMNESTY_DATABASE_URL": s.database_url,
                "AMNESTY_TRACKER_URL": s.tracker_url,
                "AMNESTY_REDIS_URL": s.redis_url or "",
                "AMNESTY_RASA_PORT": str(self.ports.rasa_lb),
                "AMNESTY_RASA_URLS": ",".join(s.rasa_urls),
                "AMNESTY_RASA_REPLICAS": ",".join(s.rasa_replicas),
                "AMNESTY_ACTIONS_URL": s.actions_url or "",
                "AMNESTY_WEB_PORT": str(self.ports.web),
            }
        )
        env.update(extra)
        return env

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.processes.append((name, spawn(self.directory / "logs", name, args, env)))

    def start_rasa(self, index: int) -> None:
        """Start (or start again) Rasa replica ``index``."""
        env = (
            rasa_env()
            | launcher_env(self.settings)
            | {"TICKET_LOCK_LIFETIME": str(self.settings.lock_lifetime)}
        )
        endpoints = self.directory / "endpoints.yml"
        args = rasa_command(self.settings, self.ports.rasa[index], self.model, endpoints)
        self._start(f"rasa-{index + 1}", args, env)

    def start(self) -> None:
        """Start everything and wait until each process answers; stop all on failure."""
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise

    def _start_all(self) -> None:
        s = self.settings
        self.token = ensure_secrets(s)["rasa_token"]
        write_endpoints(s)
        for i, port in enumerate(self.ports.actions):
            env = self._env(AMNESTY_ACTIONS_PORT=str(port))
            self._start(f"actions-{i + 1}", actions_command(port), env)
        self._start_nginx()
        # The first replica creates the tracker tables; several at once would race on them.
        self.start_rasa(0)
        self._wait_for_tracker_tables()
        for i in range(1, len(self.ports.rasa)):
            self.start_rasa(i)
        self._start("web", [str(APP_PYTHON), "-m", "bot", "web"], self._env())
        self.wait_ready()

    def _start_nginx(self) -> None:
        if not NGINX.exists():
            raise SystemExit("nginx is not installed: apt-get install nginx-light (or nginx)")
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        temp = self.directory / "temp"
        temp.mkdir(exist_ok=True)
        if os.geteuid() == 0:  # the workers run as nobody
            nobody = pwd.getpwnam("nobody")
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (temp / sub).mkdir(exist_ok=True)
                os.chown(temp / sub, nobody.pw_uid, nobody.pw_gid)
        conf = self.directory / "nginx.conf"
        conf.write_text(nginx_config(self.directory, self.ports, self.settings.host), "utf-8")
        error_log = self.directory / "logs" / "nginx-error.log"
        args = [str(NGINX), "-p", str(self.directory), "-c", str(conf), "-e", str(error_log)]
        self._start("nginx", args, dict(os.environ))

    def _wait_for_tracker_tables(self, timeout: float = 180.0) -> None:
        engine = create_engine(self.settings.tracker_url)
        deadline = time.monotonic() + timeout
        try:
            while not inspect(engine).has_table("events"):
                self._check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError("Rasa did not create its tracker tables (see rasa-1.log)")
                time.sleep(0.5)
        finally:
            engine.dispose()

    def checks(self) -> dict[str, str]:
        """The URL that answers 200 when each process is ready."""
        host, p = self.settings.host, self.ports
        urls = {
            f"actions-{i + 1}": f"http://{host}:{port}/health" for i, port in enumerate(p.actions)
        }
        for i, port in enumerate(p.rasa):
            urls[f"rasa-{i + 1}"] = f"http://{host}:{port}/status?token={self.token}"
        urls["nginx"] = f"http://{host}:{p.actions_lb}/health"
        urls["web"] = f"http://{host}:{p.web}/health"
        return urls

    def _check_alive(self) -> None:
        check_alive(self.processes, self.directory / "logs")

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Wait until every running process answers its health check."""
        wait_answering(self.processes, self.checks(), self.directory / "logs", timeout)

    def kill(self, name: str) -> None:
        """SIGKILL one process (e.g. ``rasa-2``), as a crashed host would."""
        entry = next(e for e in self.processes if e[0] == name)
        os.killpg(entry[1].pid, signal.SIGKILL)
        entry[1].wait()
        self.processes.remove(entry)

    def pids(self, prefix: str = "") -> list[int]:
        """The processes whose name starts with ``prefix`` (all by default), with children."""
        groups = {process.pid for name, process in self.processes if name.startswith(prefix)}
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in groups:  # the process group, after state and parent
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        stop_all(self.processes)


def redis_without_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for printing)."""
    parsed = urlsplit(url)
    if parsed.password is None:
        return url
    user = parsed.username or ""
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return urlunsplit(parsed._replace(netloc=f"{user}:***@{host}{port}"))


def print_urls(cluster: Cluster) -> None:
    s, p = cluster.settings, cluster.ports
    print(f"Web chat (gateway):     http://{s.host}:{p.web}/")
    print(f"Rasa through nginx:     http://{s.host}:{p.rasa_lb}/webhooks/rest/webhook")
    print(f"Actions through nginx:  {s.actions_url}")
    print(f"Rasa replicas:          {', '.join(s.rasa_replicas)}")
    print(f"Action servers:         {', '.join(f'http://{s.host}:{x}' for x in p.actions)}")
    print(f"Database: {make_url(s.database_url).render_as_string(hide_password=True)}")
    print(
        f"Redis: {redis_without_password(s.redis_url or '')}   Logs: {cluster.directory / 'logs'}"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cluster_command(settings: Settings, model: Path, rasa: int, actions: int) -> int:
    """`python -m bot cluster`: start, print the URLs, wait for Ctrl-C, stop everything."""
    from knowledge.__main__ import load

    ports = Ports.default(rasa, actions)
    cluster = Cluster(cluster_settings(settings, ports), model, ports)
    problems = unreachable_services(cluster.settings)
    if problems:
        print("The cluster cannot start:\n  " + "\n  ".join(problems))
        return 1
    if load(cluster.settings.database_url) != 0:
        return 1
    print(f"Starting {rasa} Rasa replicas, {actions} action servers, the gateway and nginx...")
    print(f"(as {getpass.getuser()}; about a minute)")
    signal.signal(signal.SIGTERM, _interrupt)  # a plain `kill` stops everything too
    try:
        cluster.start()
        print_urls(cluster)
        print("Ctrl-C stops everything.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping...")
        cluster.stop()
    return 0
