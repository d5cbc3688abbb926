"""``python -m nlu <rasa command>``: Rasa's own command line, started the way we need it.

Every way the project starts or trains Rasa goes through here (``bot/ops/stack.py``,
``bot/ops/cluster.py``, ``bot/ops/training.py``, the retraining's check server,
``scripts/test.sh``, ``deploy/amnesty-rasa@.service``), so that:

- telemetry is off: ``RASA_TELEMETRY_ENABLED=false`` for this process, and the user's
  ``~/.config/rasa/global.yml`` says ``enabled: false``. Rasa writes that file with
  ``enabled: true`` at its first start even when the variable says false, and every later
  plain ``rasa`` command would then report;
- ``run`` gets the HTTP API token from ``AMNESTY_RASA_TOKEN`` or ``var/rasa_token`` (0600),
  never from the command line, which ``ps`` shows to every local user; and the REST channel's
  and the action server's secrets are in this process's environment, where ``credentials.yml``
  and ``endpoints.yml`` name them (``${AMNESTY_REST_SECRET}``, ``${AMNESTY_ACTIONS_SECRET}``).
"""

from __future__ import annotations

import os
import sys

from settings import SECRET_FILES, Settings, from_env, secret

TELEMETRY_VARIABLE = "RASA_TELEMETRY_ENABLED"
TOKEN_OPTIONS = ("-t", "--auth-token")


def refuse_token_argument(args: list[str]) -> None:
    """SystemExit if the token was put on the command line, where ``ps`` shows it."""
    if any(a in TOKEN_OPTIONS or a.startswith("--auth-token=") for a in args):
        raise SystemExit(
            "Do not pass the token on the command line (ps shows it to every local user): "
            "set AMNESTY_RASA_TOKEN, or leave it in var/rasa_token (mode 0600)."
        )


def export_channel_secrets(settings: Settings) -> None:
    """Put the REST and action-server secrets where Rasa's ``${VAR}`` expansion reads them."""
    for name in ("rest_secret", "actions_secret"):
        variable, _ = SECRET_FILES[name]
        os.environ[variable] = secret(settings, name)


def telemetry_off() -> None:
    """Telemetry off for this process and in the user's global Rasa configuration."""
    os.environ[TELEMETRY_VARIABLE] = "false"
    from rasa import telemetry
    from rasa.utils.common import read_global_config_value

    stored = read_global_config_value(telemetry.CONFIG_FILE_TELEMETRY_KEY) or {}
    if stored.get(telemetry.CONFIG_TELEMETRY_ENABLED) is not False:
        # Fails quietly where the home folder is read-only (systemd's ProtectHome=yes); the
        # variable above still holds for this process.
        telemetry.toggle_telemetry_reporting(False)


def rasa_arguments(args: list[str], settings: Settings) -> list[str]:
    """The arguments Rasa's CLI parses in this process (``sys.argv``, not the OS's)."""
    if args[:1] != ["run"]:
        return args
    refuse_token_argument(args)
    export_channel_secrets(settings)
    # One argument with "=": a token may start with "-" (token_urlsafe), which argparse would
    # otherwise take for an option and refuse ("expected one argument").
    return [*args, f"--auth-token={secret(settings, 'rasa_token')}"]


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        raise SystemExit("usage: python -m nlu <rasa command> [options], e.g. run --enable-api")
    rasa_args = rasa_arguments(args, from_env())
    telemetry_off()
    from rasa.__main__ import main as rasa_main

    # Rasa reads sys.argv; changing it here does not change what ps shows.
    sys.argv = ["rasa", *rasa_args]
    rasa_main()


if __name__ == "__main__":
    main()
