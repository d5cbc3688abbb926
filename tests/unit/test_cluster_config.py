"""The production configuration chosen by settings: Redis lock store, actions behind nginx."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.ops.cluster import Ports, cluster_settings, nginx_config
from bot.ops.stack import lock_store_config, write_endpoints
from settings import from_env


def endpoints(tmp_path: Path, **env: str) -> dict:
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path), **env})
    return yaml.load(write_endpoints(settings).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def test_embedded_default_is_unchanged(tmp_path: Path) -> None:
    written = endpoints(tmp_path)
    assert written["action_endpoint"] == {
        "url": "http://127.0.0.1:5055/webhook",
        # Rasa expands it from its environment: the secret itself is in no file.
        "headers": {"X-Amnesty-Actions-Secret": "${AMNESTY_ACTIONS_SECRET}"},
    }
    assert "lock_store" not in written  # Rasa's in-memory lock store, one process


def test_redis_url_selects_the_redis_lock_store(tmp_path: Path) -> None:
    written = endpoints(
        tmp_path,
        AMNESTY_REDIS_URL="redis://:s%40cret@redis.local:6380/2",
        AMNESTY_ACTIONS_URL="http://lb.local:5055/webhook",
    )
    assert written["lock_store"] == {
        "type": "nlu.lock_store.PatientRedisLockStore",
        "url": "redis.local",
        "port": 6380,
        "db": 2,
        "key_prefix": "amnesty",
        "password": "s@cret",
    }
    assert written["action_endpoint"]["url"] == "http://lb.local:5055/webhook"


def test_a_wrong_redis_url_says_what_to_write() -> None:
    with pytest.raises(SystemExit, match="redis://"):
        lock_store_config("http://redis.local:6379")
    with pytest.raises(SystemExit, match="database number"):
        lock_store_config("redis://redis.local:6379/cache")


def test_actions_url_must_be_http() -> None:
    with pytest.raises(SystemExit, match="AMNESTY_ACTIONS_URL"):
        from_env({"AMNESTY_ACTIONS_URL": "lb.local:5055"})


def test_cluster_uses_postgresql_redis_and_the_balancers(tmp_path: Path) -> None:
    ports = Ports(6005, 6055, 8100, (6011, 6012), (6071, 6072))
    settings = cluster_settings(from_env({"AMNESTY_VAR_DIR": str(tmp_path)}), ports)
    assert settings.database_url.startswith("postgresql")
    assert settings.tracker_url == settings.database_url
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.actions_url == "http://127.0.0.1:6055/webhook"
    assert settings.rasa_urls == ("http://127.0.0.1:6005",)
    assert settings.rasa_replicas == ("http://127.0.0.1:6011", "http://127.0.0.1:6012")
    conf = nginx_config(tmp_path, ports, settings.host)
    assert "server 127.0.0.1:6011" in conf and "server 127.0.0.1:6072" in conf
    assert str(tmp_path) in conf and "/var/log" not in conf  # unprivileged paths only
