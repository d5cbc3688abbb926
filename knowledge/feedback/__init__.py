"""Families' feedback: the log (recorded once, with a reference), the durable spool for when
the database is down, the staff inbox queries and exports, the periodic report, and personal
data (forgetting one family, the retention period)."""
