"""Configuration of every process, read once from environment variables.

Nothing secret has a default here: the Rasa token is generated per run when unset.
"""

from __future__ import annotations

import os
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
    current_round: str
    department: str
    contact: str
    host: str
    rasa_port: int
    actions_port: int
    web_port: int
    rasa_token: str | None
    var_dir: Path

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number (a port), not {raw!r}") from None


def from_env(env: dict[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("AMNESTY_VAR_DIR", ROOT / "var"))
    return Settings(
        database_url=env.get("AMNESTY_DATABASE_URL", f"sqlite:///{var_dir / 'amnesty.db'}"),
        tracker_url=env.get("AMNESTY_TRACKER_URL", f"sqlite:///{var_dir / 'tracker.db'}"),
        current_round=env.get("AMNESTY_CURRENT_ROUND", "2026"),
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
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read on first use."""
    return from_env()
