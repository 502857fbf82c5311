"""Use cases: what the API, the web pages, the CLI and the worker do, with every rule enforced here.

Signatures follow one shape, so a door calls any service the same way: first the unit of work (a
SQLAlchemy ``Session`` the caller commits; use cases that open their own transactions, such as deals,
deal work and analytics, take the database URL instead), then the ids it acts on, then keyword-only
arguments: ``user`` (the signed-in account whose rules apply; ``actor``/``scope`` for code that runs
on the server itself, such as the demo loader), then ``settings`` where the app's configuration matters.
"""
