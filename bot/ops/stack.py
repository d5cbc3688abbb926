"""Starting and stopping the processes: action server, Rasa server, web gateway."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import yaml
from sqlalchemy.engine import make_url

from bot.channels import telegram, zalo
from bot.ops.training import RASA_ENV, rasa_env
from settings import ROOT, Settings

APP_PYTHON = Path(sys.executable)
# Alphanumeric only (Rasa drops any other prefix): keeps our lock keys apart in a shared Redis.
LOCK_KEY_PREFIX = "amnesty"


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
    """Rasa's Redis lock store for a redis:// URL, so replicas take turns on a conversation."""
    parsed = urlsplit(redis_url)
    if parsed.scheme not in {"redis", "rediss"}:
        raise SystemExit(f"AMNESTY_REDIS_URL: use a redis:// URL, not {redis_url!r}")
    db = parsed.path.strip("/") or "0"
    if not db.isdigit():
        raise SystemExit(f"AMNESTY_REDIS_URL: the path must be a database number, not {db!r}")
    config: dict[str, object] = {
        "type": "redis",
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


def write_endpoints(settings: Settings) -> Path:
    """The endpoints file Rasa reads: the actions, the SQL tracker store, the Redis lock store."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path = settings.var_dir / "endpoints.yml"
    endpoints: dict[str, object] = {
        "action_endpoint": {"url": action_url(settings)},
        "tracker_store": tracker_store_config(settings.tracker_url),
    }
    if settings.redis_url:
        endpoints["lock_store"] = lock_store_config(settings.redis_url)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return path


def spawn(
    log_dir: Path, name: str, args: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start one process in its own session, its output appended to ``log_dir/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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


def rasa_token(settings: Settings) -> str:
    """The token for Rasa's HTTP API: configured, or made for this run (var/rasa_token)."""
    token = settings.rasa_token or secrets.token_urlsafe(24)
    path = settings.var_dir / "rasa_token"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(token, encoding="utf-8")
    return token


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


@dataclass
class Stack:
    """The running processes, stopped in reverse order."""

    settings: Settings
    model: Path
    token: str = ""
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        process = spawn(self.settings.var_dir / "logs", name, args, env)
        self.processes.append((name, process))

    def _app_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "AMNESTY_DATABASE_URL": self.settings.database_url,
                "AMNESTY_TRACKER_URL": self.settings.tracker_url,
                "AMNESTY_VAR_DIR": str(self.settings.var_dir),
                "AMNESTY_RASA_PORT": str(self.settings.rasa_port),
                "AMNESTY_ACTIONS_PORT": str(self.settings.actions_port),
                "AMNESTY_WEB_PORT": str(self.settings.web_port),
                "AMNESTY_HOST": self.settings.host,
                "SANIC_HOST": self.settings.host,
            }
        )
        if self.settings.today is not None:  # a pinned date reaches the action server too
            env["AMNESTY_TODAY"] = self.settings.today.isoformat()
        return env

    def start(self, web: bool = True) -> None:
        """Start every process and wait until each one answers."""
        s = self.settings
        self.token = rasa_token(s)
        endpoints = write_endpoints(s)
        self._spawn(
            "actions",
            [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(s.actions_port)],
            self._app_env(),
        )
        rasa = rasa_env()
        rasa["SANIC_HOST"] = s.host
        self._spawn(
            "rasa",
            [
                str(RASA_ENV / "bin" / "rasa"),
                "run",
                "--enable-api",
                "-i",
                s.host,
                "-p",
                str(s.rasa_port),
                "--auth-token",
                self.token,
                "-m",
                str(self.model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(ROOT / "credentials.yml"),
            ],
            rasa,
        )
        if web:
            self._spawn("web", [str(APP_PYTHON), "-m", "bot", "web"], self._app_env())
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def restart_actions(self) -> None:
        """Stop the action server and start it again; conversations live in Rasa's tracker."""
        entry = next(p for p in self.processes if p[0] == "actions")
        process = entry[1]
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        self.processes.remove(entry)
        self._spawn("actions", [str(a) for a in process.args], self._app_env())
        self.wait_ready()

    def wait_ready(self, timeout: float = 180.0) -> None:
        s = self.settings
        checks = {
            "actions": f"http://{s.host}:{s.actions_port}/health",
            "rasa": f"{s.rasa_url}/status?token={self.token}",
            "web": f"http://{s.host}:{s.web_port}/health",
        }
        wait_answering(self.processes, checks, s.var_dir / "logs", timeout)

    def stop(self) -> None:
        stop_all(self.processes)
