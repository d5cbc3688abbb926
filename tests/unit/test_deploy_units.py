"""The systemd units in deploy/, checked by `systemd-analyze verify` without a running systemd."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.ops.cluster import Ports, nginx_config
from settings import ROOT

DEPLOY = ROOT / "deploy"
INSTALL = "/opt/amnesty"
UNITS = {
    "amnesty-rasa@.service": "amnesty-rasa@5005.service",
    "amnesty-actions@.service": "amnesty-actions@5055.service",
    "amnesty-gateway.service": "amnesty-gateway.service",
}


def rendered(tmp_path: Path) -> Path:
    """A copy of the units whose install folder exists, with the executables they start."""
    install = tmp_path / "install"
    for executable in (".venv-rasa/bin/python", ".venv-app/bin/python"):
        path = install / executable
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(shutil.which("true") or "/bin/true")
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(INSTALL, str(install))
        (units / name).write_text(text, encoding="utf-8")
    return units


@pytest.mark.parametrize("template", sorted(UNITS))
def test_unit_verifies_without_a_warning(template: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    units = rendered(tmp_path)
    # --man=no: no man pages to look up; a unit path verifies without a booted systemd.
    result = subprocess.run(
        [analyze, "verify", "--man=no", "--recursive-errors=no", str(units / UNITS[template])],
        capture_output=True,
        text=True,
        env=dict(os.environ, SYSTEMD_LOG_COLOR="0"),
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are only warnings (exit code 0): refuse those too.
    assert (result.returncode, result.stderr.strip()) == (0, ""), result.stderr


def test_verify_catches_a_start_command_that_does_not_exist(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    units = tmp_path / "units"
    units.mkdir()
    text = (DEPLOY / "amnesty-gateway.service").read_text(encoding="utf-8")
    (units / "amnesty-gateway.service").write_text(text.replace(INSTALL, "/nonexistent"))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(units / "amnesty-gateway.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "not executable" in result.stderr


def test_endpoints_example_has_the_lock_store_and_the_balancer() -> None:
    endpoints = yaml.load(
        (DEPLOY / "endpoints.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )
    assert endpoints["lock_store"]["type"] == "nlu.lock_store.PatientRedisLockStore"
    assert endpoints["action_endpoint"]["url"] == "${AMNESTY_ACTIONS_URL}"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"


def test_environment_example_holds_no_secret() -> None:
    for line in (DEPLOY / "amnesty.env.example").read_text(encoding="utf-8").splitlines():
        if "SECRET" in line or "TOKEN" in line or "PASSWORD" in line:
            name, _, value = line.lstrip("# ").partition("=")
            assert not value or value.startswith("<"), f"{name} has a value, not a placeholder"


def nginx_texts(tmp_path: Path) -> list[str]:
    cluster = nginx_config(tmp_path, Ports(1, 2, 3, (4, 5), (6,)), "127.0.0.1")
    return [cluster, (DEPLOY / "nginx-amnesty.conf").read_text(encoding="utf-8")]


def test_nginx_never_resends_a_post_by_itself(tmp_path: Path) -> None:
    for text in nginx_texts(tmp_path):
        directives = [line for line in text.splitlines() if not line.strip().startswith("#")]
        assert not any("non_idempotent" in line for line in directives)
        assert any("proxy_next_upstream error timeout;" in line for line in directives)


def test_cluster_nginx_config_is_accepted_by_nginx(tmp_path: Path) -> None:
    nginx = Path("/usr/sbin/nginx")
    if not nginx.exists():
        pytest.skip("nginx is not installed: apt-get install nginx-light (or nginx)")
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, Ports(1, 2, 3, (4, 5), (6, 7)), "127.0.0.1"))
    error_log = tmp_path / "logs" / "error.log"
    result = subprocess.run(
        [str(nginx), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(error_log)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def directives(name: str) -> list[tuple[str, str]]:
    """``(key, value)`` of every directive of a unit file, continuation lines joined."""
    joined = (DEPLOY / name).read_text(encoding="utf-8").replace("\\\n", " ")
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), " ".join(value.split())))
    return pairs


def values(name: str, key: str) -> list[str]:
    return [value for k, value in directives(name) if k == key]


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_keeps_secrets_off_the_command_line_and_files_private(name: str) -> None:
    assert values(name, "UMask") == ["0077"]  # logs, spool, SQLite files: owner only
    assert values(name, "EnvironmentFile") == ["/etc/amnesty/amnesty.env"]
    (start,) = values(name, "ExecStart")
    assert "--auth-token" not in start
    assert not any(word in start for word in ("TOKEN", "SECRET", "PASSWORD"))
    # Environment= takes its values literally: a ${VAR} there would never be expanded.
    assert not any("$" in value for value in values(name, "Environment"))


def test_rasa_unit_uses_our_launcher_on_the_private_address_without_telemetry() -> None:
    (start,) = values("amnesty-rasa@.service", "ExecStart")
    assert start.startswith(f"{INSTALL}/.venv-rasa/bin/python -m nlu run --enable-api ")
    assert "-i ${AMNESTY_HOST} -p %i" in start
    environment = " ".join(values("amnesty-rasa@.service", "Environment")).split()
    assert "RASA_TELEMETRY_ENABLED=false" in environment


def test_actions_unit_uses_our_launcher() -> None:
    (start,) = values("amnesty-actions@.service", "ExecStart")
    # actions/__main__.py binds AMNESTY_HOST and wants the secret header; rasa_sdk's own
    # command binds 0.0.0.0 and wants nothing.
    assert start == f"{INSTALL}/.venv-app/bin/python -m actions -p %i"


def test_endpoints_example_sends_the_actions_secret_header() -> None:
    endpoints = yaml.load(
        (DEPLOY / "endpoints.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )
    headers = endpoints["action_endpoint"]["headers"]
    assert headers == {"X-Amnesty-Actions-Secret": "${AMNESTY_ACTIONS_SECRET}"}


def test_environment_example_names_every_shared_secret_and_mode_0600() -> None:
    text = (DEPLOY / "amnesty.env.example").read_text(encoding="utf-8")
    for name in ("AMNESTY_HOST", "AMNESTY_RASA_TOKEN", "AMNESTY_REST_SECRET"):
        assert f"\n{name}=<" in text
    assert "\nAMNESTY_ACTIONS_SECRET=<" in text and "mode 0600" in text
