"""The store: location (``location``), engine and sessions (``engine``), ``migrations``, ``tables``.

Nothing is re-exported here, so that importing the light ``location`` module does not load
SQLAlchemy (`lettr --help` stays quick).
"""
