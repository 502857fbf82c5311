"""Use cases: what the API, the web pages, the CLI and the worker do, with every rule enforced here.

Signatures follow one shape, so a door calls any service the same way: first the unit of work (the
SQLAlchemy ``Session`` the caller opened and commits: the API's ``SessionDep``, a page's or a command's
``session_scope``), then the ids it acts on, then keyword-only arguments: ``user`` (the signed-in account
whose rules apply; ``actor``/``scope`` for code that runs on the server itself, such as the demo loader),
then ``settings`` where the app's configuration matters. A service commits only where it says so (deal
notes and stage changes with files, so a stored file stays only beside committed rows). Jobs take a
database URL instead and open their own sessions: batch matching, the worker's rounds, the demo and
registry loaders, file imports and exports (``tests/test_architecture.py`` lists them).
"""
