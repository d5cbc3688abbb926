"""Starting and stopping the processes: action server, Rasa server, web gateway.

Each listens on ``settings.host`` only (loopback by default) and is started through our
launchers: ``python -m actions`` and ``python -m nlu run`` (secrets from the environment or
0600 files under ``var/``, never on the command line; Rasa's telemetry off). Under
``make run`` a child that exits is started again with back-off (:class:`Stack`).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import yaml
from sqlalchemy.engine import make_url

from bot.channels import telegram, zalo
from bot.ops.training import RASA_PYTHON, rasa_env
from settings import ACTIONS_SECRET_HEADER, ROOT, SECRET_FILES, Settings, secret_path

logger = logging.getLogger(__name__)
APP_PYTHON = Path(sys.executable)
# A crashed child is started again after 1, 2, 4... seconds, at most RESTART_MAX_DELAY; the
# delay starts again from 1 s once it has run STABLE_SECONDS.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
STABLE_SECONDS = 60.0
UMASK = 0o077
# Alphanumeric only (Rasa drops any other prefix): keeps our lock keys apart in a shared Redis.
LOCK_KEY_PREFIX = "amnesty"
# Rasa's Redis lock store, except that a waiting turn keeps its ticket (nlu/lock_store.py).
LOCK_STORE_TYPE = "nlu.lock_store.PatientRedisLockStore"


def free_port() -> int:
    """A loopback port nobody listens on right now (for scratch servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tracker_store_config(url: str) -> dict[str, object]:
    """Rasa's SQL tracker store settings for a SQLAlchemy URL (SQLite or PostgreSQL)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": parsed.database}
    if backend == "postgresql":
        config: dict[str, object] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": parsed.host or "127.0.0.1",
            "port": parsed.port or 5432,
            "db": parsed.database,
            "username": parsed.username,
        }
        if parsed.password:
            config["password"] = parsed.password
        return config
    raise SystemExit(f"AMNESTY_TRACKER_URL: use a sqlite:/// or postgresql:// URL, not {backend}")


def lock_store_config(redis_url: str) -> dict[str, object]:
    """The Redis lock store for a redis:// URL, so replicas take turns on a conversation."""
    parsed = urlsplit(redis_url)
    if parsed.scheme not in {"redis", "rediss"}:
        raise SystemExit(f"AMNESTY_REDIS_URL: use a redis:// URL, not {redis_url!r}")
    db = parsed.path.strip("/") or "0"
    if not db.isdigit():
        raise SystemExit(f"AMNESTY_REDIS_URL: the path must be a database number, not {db!r}")
    config: dict[str, object] = {
        "type": LOCK_STORE_TYPE,
        "url": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(db),
        "key_prefix": LOCK_KEY_PREFIX,
    }
    if parsed.username:
        config["username"] = unquote(parsed.username)
    if parsed.password:
        config["password"] = unquote(parsed.password)
    if parsed.scheme == "rediss":
        config["use_ssl"] = True
    return config


def action_url(settings: Settings) -> str:
    """Where Rasa calls the actions: a configured load balancer, or our own action server."""
    return settings.actions_url or f"http://{settings.host}:{settings.actions_port}/webhook"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600, also if it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


def write_endpoints(settings: Settings) -> Path:
    """The endpoints file Rasa reads: the actions, the SQL tracker store, the Redis lock store.

    The action server's secret stays out of the file: Rasa expands ``${AMNESTY_ACTIONS_SECRET}``
    from its environment (``python -m nlu run`` sets it). The file may hold the database
    password, so it is 0600.
    """
    path = settings.var_dir / "endpoints.yml"
    variable = SECRET_FILES["actions_secret"][0]
    endpoints: dict[str, object] = {
        "action_endpoint": {
            "url": action_url(settings),
            "headers": {ACTIONS_SECRET_HEADER: f"${{{variable}}}"},
        },
        "tracker_store": tracker_store_config(settings.tracker_url),
    }
    if settings.redis_url:
        endpoints["lock_store"] = lock_store_config(settings.redis_url)
    write_private(path, yaml.safe_dump(endpoints, sort_keys=False))
    return path


def ensure_secrets(settings: Settings) -> dict[str, str]:
    """Every shared secret: configured, or its var/ file, made once (0600) when missing."""
    values = {}
    for name in SECRET_FILES:
        configured = getattr(settings, name)
        path = secret_path(settings, name)
        if configured:
            values[name] = str(configured)
        elif path.exists() and path.read_text(encoding="utf-8").strip():
            path.chmod(0o600)
            values[name] = path.read_text(encoding="utf-8").strip()
        else:
            values[name] = secrets.token_urlsafe(32)
            write_private(path, values[name])
    return values


def spawn(
    log_dir: Path, name: str, args: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start one process in its own session, its output appended to ``log_dir/<name>.log``.

    With umask 077, as the systemd units (security review M10): its log, and the databases,
    spool files and logs it creates, are readable by the owner only.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=UMASK,
        )


def stop_all(processes: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """SIGTERM each process group (last started first), SIGKILL what is left after 15 s."""
    for _, process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for _, process in reversed(processes):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    processes.clear()


def check_alive(processes: list[tuple[str, subprocess.Popen[bytes]]], log_dir: Path) -> None:
    """RuntimeError naming the first process that exited, and its log."""
    for name, process in processes:
        if process.poll() is not None:
            raise RuntimeError(
                f"the {name} process exited with code {process.returncode}; "
                f"see {log_dir / (name + '.log')}"
            )


def wait_answering(
    processes: list[tuple[str, subprocess.Popen[bytes]]],
    checks: dict[str, str],
    log_dir: Path,
    timeout: float,
) -> None:
    """Wait until each process answers its health-check URL; RuntimeError if one exits."""
    pending = {name for name, _ in processes}
    deadline = time.monotonic() + timeout
    while pending:
        check_alive(processes, log_dir)
        for name in sorted(pending):
            try:
                if httpx.get(checks[name], timeout=2).status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")
        time.sleep(0.5)


def channel_lines(settings: Settings) -> list[str]:
    """One line per messaging channel: how it runs, or why it was not started."""
    web = f"http://{settings.host}:{settings.web_port}"
    reason = telegram.not_configured(settings)
    lines = [
        f"Telegram: not started ({reason})"
        if reason
        else f"Telegram: started ({telegram.mode(settings)}, inside the web gateway process)"
    ]
    reason = zalo.not_configured(settings)
    lines.append(
        f"Zalo: not started ({reason})"
        if reason
        else f"Zalo: webhook at {web}/zalo/webhook (publish it over HTTPS, see the README)"
    )
    return lines


def rasa_command(settings: Settings, port: int, model: Path, endpoints: Path) -> list[str]:
    """``python -m nlu run`` for one Rasa server: API on, bound to ``settings.host``, no token."""
    return [
        str(RASA_PYTHON),
        "-m",
        "nlu",
        "run",
        "--enable-api",
        "-i",
        settings.host,
        "-p",
        str(port),
        "-m",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(ROOT / "credentials.yml"),
    ]


def actions_command(port: int) -> list[str]:
    """``python -m actions`` (our launcher around rasa-sdk) on ``port``."""
    return [str(APP_PYTHON), "-m", "actions", "-p", str(port)]


def launcher_env(settings: Settings) -> dict[str, str]:
    """What every child needs to find its settings and its secrets' files."""
    return {
        "PYTHONPATH": str(ROOT),
        "AMNESTY_VAR_DIR": str(settings.var_dir),
        "AMNESTY_HOST": settings.host,
    }


def restart_delay(failures: int) -> float:
    """Seconds before the ``failures``-th restart in a row (1, 2, 4... at most 30)."""
    return min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** max(0, failures - 1))


@dataclass
class Restart:
    """One restart of a child that exited on its own (for the log and the tests)."""

    name: str
    code: int
    delay: float


@dataclass
class Stack:
    """The running processes, stopped in reverse order; crashed ones are started again."""

    settings: Settings
    model: Path
    token: str = ""
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    _commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _supervisor: threading.Thread | None = None

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "logs"

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self._commands[name] = (args, env)
        self.processes.append((name, spawn(self.log_dir, name, args, env)))

    def _app_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(launcher_env(self.settings))
        env.update(
            {
                "AMNESTY_DATABASE_URL": self.settings.database_url,
                "AMNESTY_TRACKER_URL": self.settings.tracker_url,
                "AMNESTY_RASA_PORT": str(self.settings.rasa_port),
                "AMNESTY_ACTIONS_PORT": str(self.settings.actions_port),
                "AMNESTY_WEB_PORT": str(self.settings.web_port),
            }
        )
        if self.settings.today is not None:  # a pinned date reaches the action server too
            env["AMNESTY_TODAY"] = self.settings.today.isoformat()
        return env

    def start(self, web: bool = True, supervise: bool = True) -> None:
        """Start every process and wait until each one answers; then watch them."""
        s = self.settings
        self.token = ensure_secrets(s)["rasa_token"]
        endpoints = write_endpoints(s)
        self._spawn("actions", actions_command(s.actions_port), self._app_env())
        rasa = rasa_env() | launcher_env(s)
        self._spawn("rasa", rasa_command(s, s.rasa_port, self.model, endpoints), rasa)
        if web:
            self._spawn("web", [str(APP_PYTHON), "-m", "bot", "web"], self._app_env())
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        if supervise:
            self._supervisor = threading.Thread(
                target=self._watch, name="stack-supervisor", daemon=True
            )
            self._supervisor.start()

    def _respawn(self, name: str) -> None:
        """Replace the entry of ``name`` by a new process with the same command."""
        args, env = self._commands[name]
        index = next(i for i, (n, _) in enumerate(self.processes) if n == name)
        self.processes[index] = (name, spawn(self.log_dir, name, args, env))

    def _note(self, message: str) -> None:
        logger.warning("%s", message)
        with open(self.log_dir / "stack.log", "a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    def _watch(self, poll: float = 0.5) -> None:
        """Restart each child that exits, after its back-off; until :meth:`stop`."""
        failures: dict[str, int] = {}
        started = {name: time.monotonic() for name, _ in self.processes}
        due: dict[str, float] = {}
        while not self._stopping.wait(poll):
            with self._lock:
                for name, process in list(self.processes):
                    code = process.poll()
                    if code is None or self._stopping.is_set():
                        continue
                    now = time.monotonic()
                    if name not in due:
                        stable = now - started.get(name, now) >= STABLE_SECONDS
                        failures[name] = 1 if stable else failures.get(name, 0) + 1
                        delay = restart_delay(failures[name])
                        due[name] = now + delay
                        self.restarts.append(Restart(name, code, delay))
                        self._note(
                            f"the {name} process exited with code {code}; starting it again "
                            f"in {delay:.0f} s (its log: {self.log_dir / (name + '.log')})"
                        )
                    elif now >= due[name]:
                        del due[name]
                        started[name] = now
                        self._respawn(name)
                        self._note(f"the {name} process was started again")

    def restart_actions(self) -> None:
        """Stop the action server and start it again; conversations live in Rasa's tracker."""
        with self._lock:
            process = dict(self.processes)["actions"]
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
            self._respawn("actions")
        self.wait_ready()

    def wait_ready(self, timeout: float = 180.0) -> None:
        s = self.settings
        checks = {
            "actions": f"http://{s.host}:{s.actions_port}/health",
            "rasa": f"{s.rasa_url}/status?token={self.token}",
            "web": f"http://{s.host}:{s.web_port}/health",
        }
        wait_answering(self.processes, checks, self.log_dir, timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        with self._lock:
            stop_all(self.processes)
