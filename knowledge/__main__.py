"""Command line: ``python -m knowledge load`` copies the YAML content into the database."""

from __future__ import annotations

import argparse
import sys

from knowledge.content import ContentError, read_entries, read_rounds, sync
from knowledge.db import create_schema, engine_for, session_factory
from settings import get_settings


def load(database_url: str) -> int:
    try:
        entries, rounds = read_entries(), read_rounds()
    except ContentError as exc:
        print(f"Knowledge base not loaded: {exc}", file=sys.stderr)
        return 1
    create_schema(engine_for(database_url))
    with session_factory(database_url).begin() as session:
        report = sync(session, entries, rounds)
    print(f"Knowledge base: {report}.")
    for key in report.kept_staff_edits:
        print(f"  kept the staff edit of {key} (the YAML changed too: review it)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load", help="create the tables and load knowledge/content/*.yml")
    args = parser.parse_args(argv)
    if args.command == "load":
        return load(get_settings().database_url)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
