"""Whether a measure may apply to one person: the facts read from a family's words, the rules
as data (``rules/``), and pure evaluators that say met / not met / unknown per condition."""
