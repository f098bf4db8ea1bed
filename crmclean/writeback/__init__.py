"""The write path: plan → apply (journaled, resumable) → rollback, through any connector.

``plan`` the reviewable file of operations; ``store`` the journal of intents and outcomes;
``engine`` sends units of work batch by batch; ``targets`` where a run writes; ``apply``,
``resume`` and ``rollback`` the three kinds of run; ``run`` what they share (finish, report).
Import from the modules; this package imports nothing so that loading it stays cheap.
"""
