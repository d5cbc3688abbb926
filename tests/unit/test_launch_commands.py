"""Every command line and environment the project builds to start or train Rasa and the action
servers: our launchers, the private address, telemetry off, no secret in the arguments (ps
shows them to every local user). The processes themselves: tests/e2e/test_private_backend.py."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from bot.ops import cluster as cluster_module
from bot.ops.cluster import Cluster, Ports, cluster_settings, redis_without_password
from bot.ops.retraining import check_server_command, check_server_env
from bot.ops.stack import (
    actions_command,
    ensure_secrets,
    launcher_env,
    rasa_command,
    restart_delay,
)
from bot.ops.training import RASA_PYTHON, rasa_env, train_command
from settings import SECRET_FILES, Settings, from_env, secret, secret_path

SECRETS = {
    "AMNESTY_RASA_TOKEN": "token-that-must-stay-hidden",
    "AMNESTY_REST_SECRET": "rest-secret-that-must-stay-hidden",
    "AMNESTY_ACTIONS_SECRET": "actions-secret-that-must-stay-hidden",
}


def configured(tmp_path: Path, **env: str) -> Settings:
    return from_env({"AMNESTY_VAR_DIR": str(tmp_path), **SECRETS, **env})


def assert_private(args: list[str]) -> None:
    assert not any(value in " ".join(args) for value in SECRETS.values()), args
    assert "--auth-token" not in args and "-t" not in args


def test_rasa_is_started_through_our_launcher_on_the_configured_address(tmp_path: Path) -> None:
    settings = configured(tmp_path, AMNESTY_HOST="10.0.0.11")
    args = rasa_command(settings, 5005, tmp_path / "m.tar.gz", tmp_path / "endpoints.yml")
    assert args[:4] == [str(RASA_PYTHON), "-m", "nlu", "run"]
    assert args[args.index("-i") + 1] == "10.0.0.11"
    assert_private(args)
    assert launcher_env(settings)["AMNESTY_HOST"] == "10.0.0.11"


def test_actions_are_started_through_our_launcher(tmp_path: Path) -> None:
    args = actions_command(5055)
    assert args[1:] == ["-m", "actions", "-p", "5055"]  # not rasa_sdk (0.0.0.0, no secret)
    assert_private(args)


def test_training_and_the_check_server_use_the_launcher_with_telemetry_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")  # whatever the caller had
    assert train_command(tmp_path)[:4] == [str(RASA_PYTHON), "-m", "nlu", "train"]
    assert rasa_env()["RASA_TELEMETRY_ENABLED"] == "false"
    command = check_server_command(5999, tmp_path / "m.tar.gz")
    assert command[:4] == [str(RASA_PYTHON), "-m", "nlu", "run"]
    assert command[command.index("-i") + 1] == "127.0.0.1"
    env = check_server_env("scratch-token")
    assert env["AMNESTY_RASA_TOKEN"] == "scratch-token" and "scratch-token" not in command
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_cluster_starts_every_rasa_and_action_server_through_the_launchers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[tuple[str, list[str], dict[str, str]]] = []

    def record(log_dir: Path, name: str, args: list[str], env: dict[str, str]) -> object:
        started.append((name, args, env))
        return subprocess.Popen(["true"])

    monkeypatch.setattr(cluster_module, "spawn", record)
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    ports = Ports(6005, 6055, 8100, (6011, 6012), (6071,))
    settings = cluster_settings(configured(tmp_path), ports)
    cluster = Cluster(settings, tmp_path / "m.tar.gz", ports)
    cluster.start_rasa(0)
    cluster.start_rasa(1)
    for name, args, env in started:
        assert args[:4] == [str(RASA_PYTHON), "-m", "nlu", "run"], name
        assert args[args.index("-i") + 1] == settings.host
        assert env["RASA_TELEMETRY_ENABLED"] == "false"
        assert env["AMNESTY_VAR_DIR"] == str(settings.var_dir)  # where its secrets are
        assert_private(args)
    assert [name for name, _, _ in started] == ["rasa-1", "rasa-2"]


def test_secrets_are_made_once_readable_by_the_owner_only(tmp_path: Path) -> None:
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path)})
    first = ensure_secrets(settings)
    for name in SECRET_FILES:
        path = secret_path(settings, name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert secret(settings, name) == first[name]
    assert ensure_secrets(settings) == first  # kept across starts
    assert len(set(first.values())) == 3


def test_a_configured_secret_is_not_written_and_a_loose_file_is_refused(tmp_path: Path) -> None:
    settings = configured(tmp_path)
    assert ensure_secrets(settings)["rasa_token"] == SECRETS["AMNESTY_RASA_TOKEN"]
    assert not secret_path(settings, "rasa_token").exists()
    loose = from_env({"AMNESTY_VAR_DIR": str(tmp_path)})
    path = secret_path(loose, "rest_secret")
    path.write_text("readable by all")
    path.chmod(0o644)
    with pytest.raises(SystemExit, match="chmod 600"):
        secret(loose, "rest_secret")
    with pytest.raises(SystemExit, match="AMNESTY_ACTIONS_SECRET is not set"):
        secret(loose, "actions_secret")


def test_the_cluster_prints_redis_without_its_password() -> None:
    assert redis_without_password("redis://:s3cret@redis.local:6380/2") == (
        "redis://:***@redis.local:6380/2"
    )
    assert redis_without_password("redis://u:p@r/0") == "redis://u:***@r/0"
    assert redis_without_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_a_crashing_child_is_restarted_later_and_later() -> None:
    assert [restart_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
