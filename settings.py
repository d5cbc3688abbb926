"""Configuration of every process, read once from environment variables.

Nothing secret has a default here. The three shared secrets (Rasa's API token, the REST
channel's header, the action server's header) come from the environment or, when unset, from
a 0600 file under ``var_dir`` that ``make run`` generates once (:func:`secret`). The Rasa
environment imports this module too (``nlu/__main__.py``): keep it Python 3.10 and stdlib only.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent

DEFAULT_DEPARTMENT = "Phòng Cảnh sát thi hành án hình sự và hỗ trợ tư pháp (PC10) Công an tỉnh"
# A noun phrase: answers say "liên hệ {department} qua {contact}". Nothing is invented:
# set AMNESTY_CONTACT to the department's published hotline and address.
DEFAULT_CONTACT = (
    "số điện thoại và địa chỉ tiếp công dân mà Công an tỉnh công bố chính thức (trợ lý chưa "
    "được cấu hình các thông tin này nên không đưa số nào)"
)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the embedded (SQLite, one machine) defaults."""

    database_url: str
    tracker_url: str
    department: str
    contact: str
    host: str
    rasa_port: int
    actions_port: int
    web_port: int
    rasa_token: str | None
    var_dir: Path
    # Sent by the gateway in REST_SECRET_HEADER and required by Rasa's REST channel
    # (nlu/channels.py), and sent by Rasa in ACTIONS_SECRET_HEADER and required by the action
    # server (actions/__main__.py). None: the var_dir file of SECRET_FILES.
    rest_secret: str | None = None
    actions_secret: str | None = None
    # Signs the staff web app's session cookie; when unset, generated once into var_dir.
    secret_key: str | None = None
    # The day the assistant answers as of (rounds "now", "năm nay", periods that end): unset =
    # today on Vietnam's clock. Set it only to pin a date (tests, checking an answer later).
    today: dt.date | None = None
    staff_session_minutes: int = 480
    # Login attempts per (account, client address), and per client address (an office behind
    # one NAT shares it), counted before the password is checked.
    login_rate: str = "5/minute"
    login_address_rate: str = "20/minute"
    # Login attempts on one account from anywhere beyond which each attempt on it waits
    # login_account_delay seconds first (never a refusal: nobody can lock an account out).
    login_account_rate: str = "30/hour"
    login_account_delay: int = 5
    # Password checks (argon2, 64 MiB each) running at once in this process; more: HTTP 429.
    login_hashes: int = 2
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's
    # forwarded_allow_ips syntax: addresses or networks, comma-separated; "*" for any).
    trusted_proxies: str = "127.0.0.1"
    # Web chat: messages per client address (besides channel_rate per browser).
    web_address_rate: str = "60/minute"
    # "tra cứu PA-…": look-ups per reference and per conversation.
    lookup_rate: str = "5/hour"
    # Longest answer (and chat message) staff may save: Zalo sends at most 2,000 characters.
    answer_max_chars: int = 1500
    # Zalo and Telegram (bot/channels/: inbox, telegram, zalo); unset token = not started.
    channel_rate: str = "20/minute"
    channel_rasa_timeout: int = 20
    resend_interval: int = 10
    telegram_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_max_chars: int = 4096
    zalo_app_id: str | None = None
    zalo_secret_key: str | None = None
    zalo_app_secret: str | None = None
    zalo_access_token: str | None = None
    zalo_refresh_token: str | None = None
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com/v4/oa/access_token"
    zalo_max_chars: int = 2000
    zalo_event_max_age: int = 600
    zalo_send_attempts: int = 4
    # Feedback that the database could not take waits here (knowledge/feedback/spool.py); None means
    # var_dir / "spool".
    spool_dir: Path | None = None
    spool_retry_seconds: int = 30
    # Closed feedback loses its contact details, and conversations are purged, after this.
    retention_days: int = 365
    # Staff inbox: Zalo delivers a reply only this long after the family's last message; the
    # report lists open items older than report_open_days.
    zalo_reply_window_days: int = 7
    report_open_days: int = 7
    # Unanswered-questions queue: answers below this intent confidence are recorded.
    queue_min_confidence: float = 0.6
    # Scale-out: one Redis for Rasa's lock store and the gateway's shared state (rate limits,
    # buttons offered, per-sender order). None = embedded default (in-process memory).
    redis_url: str | None = None
    # Where the gateway sends messages, tried in turn (a load balancer, or the replicas), and
    # every Rasa server a retrained model is loaded into; both default to the local server.
    message_rasa_urls: tuple[str, ...] = ()
    replica_rasa_urls: tuple[str, ...] = ()
    # --- cluster (bot/ops/cluster.py, deploy/): where Rasa calls the action servers (a load
    # balancer; None = http://host:actions_port/webhook), and how long Rasa's lock on one
    # conversation lives when its holder dies (seconds; Rasa's TICKET_LOCK_LIFETIME).
    actions_url: str | None = None
    lock_lifetime: int = 20
    # --- end of cluster

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """Where the gateway sends a message (the next one when a server fails)."""
        return self.message_rasa_urls or (self.rasa_url,)

    @property
    def rasa_replicas(self) -> tuple[str, ...]:
        """Every Rasa server that must load a new model."""
        return self.replica_rasa_urls or (self.rasa_url,)


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number (a port), not {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number such as 0.6, not {raw!r}") from None


def _date(env: dict[str, str], name: str) -> dt.date | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{name} must be a date like 2026-12-06, not {value!r}") from None


def _urls(env: dict[str, str], name: str) -> tuple[str, ...]:
    urls = tuple(u.strip().rstrip("/") for u in env.get(name, "").split(",") if u.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SystemExit(f"{name}: comma-separated http:// URLs, not {url!r}")
    return urls


def from_env(env: dict[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("AMNESTY_VAR_DIR", ROOT / "var"))
    return Settings(
        database_url=env.get("AMNESTY_DATABASE_URL", f"sqlite:///{var_dir / 'amnesty.db'}"),
        tracker_url=env.get("AMNESTY_TRACKER_URL", f"sqlite:///{var_dir / 'tracker.db'}"),
        department=env.get("AMNESTY_DEPARTMENT")
        or (
            f"{DEFAULT_DEPARTMENT} {env['AMNESTY_PROVINCE']}"
            if env.get("AMNESTY_PROVINCE")
            else DEFAULT_DEPARTMENT
        ),
        contact=env.get("AMNESTY_CONTACT", DEFAULT_CONTACT),
        host=env.get("AMNESTY_HOST", "127.0.0.1"),
        rasa_port=_int(env, "AMNESTY_RASA_PORT", 5005),
        actions_port=_int(env, "AMNESTY_ACTIONS_PORT", 5055),
        web_port=_int(env, "AMNESTY_WEB_PORT", 8000),
        rasa_token=env.get("AMNESTY_RASA_TOKEN") or None,
        var_dir=var_dir,
        rest_secret=env.get("AMNESTY_REST_SECRET") or None,
        actions_secret=env.get("AMNESTY_ACTIONS_SECRET") or None,
        secret_key=env.get("AMNESTY_SECRET_KEY") or None,
        today=_date(env, "AMNESTY_TODAY"),
        staff_session_minutes=_int(env, "AMNESTY_STAFF_SESSION_MINUTES", 480),
        login_rate=env.get("AMNESTY_LOGIN_RATE", "5/minute"),
        login_address_rate=env.get("AMNESTY_LOGIN_ADDRESS_RATE", "20/minute"),
        login_account_rate=env.get("AMNESTY_LOGIN_ACCOUNT_RATE", "30/hour"),
        login_account_delay=_int(env, "AMNESTY_LOGIN_ACCOUNT_DELAY", 5),
        login_hashes=max(1, _int(env, "AMNESTY_LOGIN_HASHES", 2)),
        trusted_proxies=env.get("AMNESTY_TRUSTED_PROXIES") or "127.0.0.1",
        web_address_rate=env.get("AMNESTY_WEB_ADDRESS_RATE", "60/minute"),
        lookup_rate=env.get("AMNESTY_LOOKUP_RATE", "5/hour"),
        answer_max_chars=_int(env, "AMNESTY_ANSWER_MAX_CHARS", 1500),
        channel_rate=env.get("AMNESTY_CHANNEL_RATE", "20/minute"),
        channel_rasa_timeout=_int(env, "AMNESTY_CHANNEL_RASA_TIMEOUT", 20),
        resend_interval=_int(env, "AMNESTY_RESEND_INTERVAL", 10),
        telegram_token=env.get("AMNESTY_TELEGRAM_TOKEN") or None,
        telegram_base_url=env.get("AMNESTY_TELEGRAM_BASE_URL") or "https://api.telegram.org/bot",
        telegram_webhook_url=env.get("AMNESTY_TELEGRAM_WEBHOOK_URL") or None,
        telegram_webhook_secret=env.get("AMNESTY_TELEGRAM_WEBHOOK_SECRET") or None,
        telegram_max_chars=_int(env, "AMNESTY_TELEGRAM_MAX_CHARS", 4096),
        zalo_app_id=env.get("AMNESTY_ZALO_APP_ID") or None,
        zalo_secret_key=env.get("AMNESTY_ZALO_SECRET_KEY") or None,
        zalo_app_secret=env.get("AMNESTY_ZALO_APP_SECRET") or None,
        zalo_access_token=env.get("AMNESTY_ZALO_ACCESS_TOKEN") or None,
        zalo_refresh_token=env.get("AMNESTY_ZALO_REFRESH_TOKEN") or None,
        zalo_api_url=env.get("AMNESTY_ZALO_API_URL") or "https://openapi.zalo.me",
        zalo_oauth_url=env.get("AMNESTY_ZALO_OAUTH_URL")
        or "https://oauth.zaloapp.com/v4/oa/access_token",
        zalo_max_chars=_int(env, "AMNESTY_ZALO_MAX_CHARS", 2000),
        zalo_event_max_age=_int(env, "AMNESTY_ZALO_EVENT_MAX_AGE", 600),
        zalo_send_attempts=_int(env, "AMNESTY_ZALO_SEND_ATTEMPTS", 4),
        spool_dir=Path(env.get("AMNESTY_SPOOL_DIR") or var_dir / "spool"),
        spool_retry_seconds=_int(env, "AMNESTY_SPOOL_RETRY_SECONDS", 30),
        retention_days=_int(env, "AMNESTY_RETENTION_DAYS", 365),
        zalo_reply_window_days=_int(env, "AMNESTY_ZALO_REPLY_WINDOW_DAYS", 7),
        report_open_days=_int(env, "AMNESTY_REPORT_OPEN_DAYS", 7),
        queue_min_confidence=_float(env, "AMNESTY_QUEUE_MIN_CONFIDENCE", 0.6),
        redis_url=env.get("AMNESTY_REDIS_URL") or None,
        message_rasa_urls=_urls(env, "AMNESTY_RASA_URLS"),
        replica_rasa_urls=_urls(env, "AMNESTY_RASA_REPLICAS"),
        actions_url=(_urls(env, "AMNESTY_ACTIONS_URL") or (None,))[0],
        lock_lifetime=_int(env, "AMNESTY_LOCK_LIFETIME", 20),
    )


# Shared secrets: Settings field -> (environment variable, file under var_dir when unset).
SECRET_FILES = {
    "rasa_token": ("AMNESTY_RASA_TOKEN", "rasa_token"),
    "rest_secret": ("AMNESTY_REST_SECRET", "rest_secret"),
    "actions_secret": ("AMNESTY_ACTIONS_SECRET", "actions_secret"),
}
REST_SECRET_HEADER = "X-Amnesty-Rest-Secret"
ACTIONS_SECRET_HEADER = "X-Amnesty-Actions-Secret"


def secret_path(settings: Settings, name: str) -> Path:
    return settings.var_dir / SECRET_FILES[name][1]


def secret(settings: Settings, name: str) -> str:
    """A shared secret (a key of SECRET_FILES): configured, or read from its 0600 file.

    SystemExit saying what to do when neither is there, or the file is readable by others.
    """
    configured = getattr(settings, name)
    if configured:
        return str(configured)
    variable, _ = SECRET_FILES[name]
    path = secret_path(settings, name)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SystemExit(
            f"{variable} is not set and {path} does not exist: set it, or start the assistant "
            "with `make run`, which generates it"
        ) from None
    if mode & 0o077:
        raise SystemExit(f"{path} is readable by others (mode {mode:o}): chmod 600 {path}")
    if not value:
        raise SystemExit(f"{path} is empty: delete it and start again, or set {variable}")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read on first use."""
    return from_env()
