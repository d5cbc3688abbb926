"""Command line: ``python -m knowledge load`` copies the YAML content into the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge import backup
from knowledge.clock import vietnam_today
from knowledge.db import create_schema, engine_for, session_factory
from knowledge.feedback.privacy import command as privacy_command
from knowledge.kb.loader import ContentError, read_entries, read_laws, read_rounds, sync
from knowledge.kb.queue import TRAINING_FILE
from knowledge.kb.rechecks import flag_law_changes
from knowledge.kb.training_export import export_command
from knowledge.local.files import private_umask
from knowledge.migrations import migrate_command
from settings import get_settings


def load(database_url: str) -> int:
    try:
        entries, rounds, laws = read_entries(), read_rounds(), read_laws()
    except ContentError as exc:
        print(f"Knowledge base not loaded: {exc}", file=sys.stderr)
        return 1
    create_schema(engine_for(database_url))
    with session_factory(database_url).begin() as session:
        report = sync(session, entries, rounds, laws)
        flagged = flag_law_changes(session, get_settings().today or vietnam_today())
    print(f"Knowledge base: {report}.")
    if flagged:
        print(f"  {flagged} re-checks added: a text entries rest on took effect or ended")
    for key in report.kept_staff_edits:
        print(f"  kept the staff edit of {key} (the YAML changed too: review it)")
    return 0


def main(argv: list[str] | None = None) -> int:
    private_umask()  # databases, logs, spool, backups: readable by our user only
    parser = argparse.ArgumentParser(prog="python -m knowledge")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load", help="create the tables and load knowledge/kb/content/*.yml")
    forget = sub.add_parser("forget", help="delete everything about one family (a sender id)")
    forget.add_argument("sender_id", help="the conversation id, e.g. zalo:123 or web:abc")
    sub.add_parser("retention", help="clear old contact details and purge old conversations")
    sub.add_parser("drain-spool", help="store the feedback waiting in the local spool")
    export = sub.add_parser(
        "export-training", help="write the staff's training examples to nlu_data/from_staff.yml"
    )
    export.add_argument("--output", type=Path, default=TRAINING_FILE, help="another file")
    # --- schema migrations and backups (docs/operations.md)
    migrate = sub.add_parser("migrate", help="bring the database to the newest schema revision")
    migrate.add_argument("--status", action="store_true", help="only compare (exit 1: behind)")
    for name, what in (("backup", "write a backup to FILE"), ("restore", "restore from FILE")):
        step = sub.add_parser(name, help=f"{what} (our database, or Rasa's with --tracker)")
        step.add_argument("file", type=Path, metavar="FILE")
        step.add_argument("--tracker", action="store_true", help="Rasa's tracker database")
        step.add_argument("--force", action="store_true", help="overwrite what is there")
    # --- end of migrations and backups
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return migrate_command(get_settings().database_url, only_status=args.status)
    if args.command in ("backup", "restore"):
        return backup.command(
            get_settings(), args.command, args.file, tracker=args.tracker, force=args.force
        )
    if args.command == "load":
        return load(get_settings().database_url)
    if args.command == "export-training":
        return export_command(get_settings().database_url, args.output)
    if args.command in ("forget", "retention", "drain-spool"):
        return privacy_command(get_settings(), args.command, getattr(args, "sender_id", None))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
