"""The data layer: the database, its typed models and migrations, and the queries over them.

- ``kb/``: the knowledge base (entries, rounds, ranking, the answers' text, FAQ editing, the
  queue of questions answered badly);
- ``eligibility/``: reading a case from a family's words and the rules of each measure as data,
  evaluated by pure functions;
- ``feedback/``: the feedback log, its spool, the staff inbox queries, the report, retention
  and deletion;
- at the top: engines and sessions (``db``), the schema (``models``), staff accounts and the
  audit log, channel state, training runs, backups, masking.

Callers own the database session: functions here take a session, add and flush, and the
caller commits. Only the command line (``python -m knowledge``) and the feedback spool
worker open sessions of their own. Nothing here imports ``bot`` or ``actions``.
"""
