"""``python -m bot run`` starts everything and opens the console chat; see --help."""

from __future__ import annotations

import argparse
import sys
import webbrowser

from bot.ops.stack import Stack, channel_lines
from bot.ops.training import ensure_model
from knowledge.__main__ import load
from knowledge.local.files import private_umask
from settings import get_settings, secret


def run(open_browser: bool) -> int:
    settings = get_settings()
    if load(settings.database_url) != 0:
        return 1
    from bot.ops.retraining import current_model

    trained = ensure_model()
    model = current_model(settings, trained)
    if model != trained:
        print(f"Serving {model.name}, which retraining from the staff app deployed.")
    stack = Stack(settings, model)
    print("Starting the action server, the Rasa server and the web chat (about 30 s)...")
    try:
        stack.start()
        url = f"http://{settings.host}:{settings.web_port}/"
        print(f"Web chat: {url}   (logs in {settings.var_dir / 'logs'})")
        for line in channel_lines(settings):
            print(line)
        if open_browser:
            webbrowser.open(url)
        from bot.channels.console import chat

        chat(settings.rasa_url, secret(settings, "rest_secret"))
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping...")
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    private_umask()  # databases, logs, spool, backups: readable by our user only
    parser = argparse.ArgumentParser(prog="python -m bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="load, train if needed, start all, console chat")
    run_parser.add_argument("--no-browser", action="store_true")
    sub.add_parser("train", help="build the training data and train if it changed")
    sub.add_parser("web", help="serve the web chat gateway (started by 'run')")
    sub.add_parser(
        "retrain",
        help="train with the staff's examples, check on the held-out set, swap in if it passes",
    )
    cluster = sub.add_parser(
        "cluster", help="start Rasa replicas and action servers behind nginx (PostgreSQL, Redis)"
    )
    cluster.add_argument("--rasa", type=int, default=2, help="Rasa replicas (default 2)")
    cluster.add_argument("--actions", type=int, default=2, help="action servers (default 2)")
    create_user = sub.add_parser("create-user", help="create a staff web app account")
    create_user.add_argument("name")
    create_user.add_argument("--role", required=True, choices=["editor", "reviewer", "admin"])
    create_user.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    set_password = sub.add_parser("set-password", help="set a staff account's password")
    set_password.add_argument("name")
    set_password.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(open_browser=not args.no_browser and sys.stdout.isatty())
    if args.command == "train":
        print(ensure_model())
        return 0
    if args.command == "retrain":
        from bot.ops.retraining import retrain_command

        return retrain_command(get_settings())
    if args.command == "cluster":
        from bot.ops.cluster import cluster_command

        return cluster_command(get_settings(), ensure_model(), args.rasa, args.actions)
    if args.command == "create-user":
        from bot.staff.app import create_user_command

        return create_user_command(get_settings(), args.name, args.role, args.password_stdin)
    if args.command == "set-password":
        from bot.staff.app import set_password_command

        return set_password_command(get_settings(), args.name, args.password_stdin)
    if args.command == "web":
        from bot.gateway import serve

        serve(get_settings())
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
