"""SQLite's connections and cursors as the program holds them: recording and replaying.

SQLite reads and writes its database files in C, so no file event shows them. Instead
``sqlite3.connect`` makes connections and cursors of subclasses of ``sqlite3.Connection``
and ``sqlite3.Cursor`` (``isinstance`` holds; their module, name and ``repr`` are the
originals') whose calls are events: ``execute``, ``executemany``, ``executescript`` keep
the SQL and their outcome ``[rowcount, lastrowid, column names]``; ``fetchone``,
``fetchmany``, ``fetchall`` and iteration keep **the rows**, as the program gets them
before its ``row_factory`` (which runs again in a replay, on the recorded rows);
``commit``, ``rollback``, ``close``, leaving a ``with`` block, ``in_transaction`` and
``total_changes`` are events too.

In a replay no database file is opened: each connection is an in-memory database that
is never written (it only gives the C object a state, and ``sqlite3.Row`` the column
names it reads from the cursor), and every call above is answered from the tape.

The program's functions, collations, authorizers and progress and trace handlers run in a
replay with the arguments SQLite gave them (sqlite_callbacks.py); aggregates and window
functions do not, nor adapters and converters (their results are in the rows).
``blobopen`` stops a replay with a report.
"""
from __future__ import annotations

import _sqlite3
import itertools
from binascii import crc32

from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.sqlite_callbacks import RecordedCallbacks, ReplayedCallbacks, answered, kept_with_calls
from retrace_core.boundary.wrappers import Headers, call_arguments

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

_Connection, _Cursor = _sqlite3.Connection, _sqlite3.Cursor
_serials = itertools.count(1)  # names a connection or a cursor on the tape
_CONNECTION_EVENTS = ("commit", "rollback", "close", "__exit__", "in_transaction", "total_changes", "backup",
                      "serialize", "deserialize", "getlimit", "setlimit", "enable_load_extension",
                      "load_extension", "interrupt")
_CURSOR_EVENTS = ("execute", "executemany", "executescript", "fetchone", "fetchmany", "fetchall", "__next__",
                  "close")


class _Events:
    """Interned headers of the SQLite events."""

    def __init__(self, tape) -> None:
        self.tape = tape
        self.headers = {"sqlite3.connect": Headers(tape, "sqlite3.connect", True)}
        for cls, methods in (("Connection", _CONNECTION_EVENTS), ("Cursor", _CURSOR_EVENTS)):
            for method in methods:
                name = f"sqlite3.{cls}.{method}"
                self.headers[name] = Headers(tape, name, True)


_events: _Events | None = None  # recording: set by sqlite.Connect
_player = None  # replaying: set by sqlite.Connect


def _recorded(name: str, shown: tuple, function, keep=None):
    return record(_events.headers[name], _events.tape, function, shown, keep)


def _outcome(cursor) -> list:
    """What an execute leaves on its cursor: [rowcount, lastrowid, column names or None]."""
    description = _Cursor.description.__get__(cursor)
    names = None if description is None else [column[0] for column in description]
    return [_Cursor.rowcount.__get__(cursor), _Cursor.lastrowid.__get__(cursor), names]


def _fetched(cursor, name: str, shown: tuple, fetch, many: bool):
    """Rows as SQLite gave them, then made by the cursor's ``row_factory`` as C would."""
    factory = cursor.row_factory
    if factory is None:
        return fetch(name, shown)
    cursor.row_factory = None
    try:
        rows = fetch(name, shown)
    finally:
        cursor.row_factory = factory
    if many:
        return [factory(cursor, row) for row in rows]
    return rows if rows is None else factory(cursor, rows)


def _cursor_factory(base: type, own: type) -> type:
    return own if base is _Cursor else _combined(base, own)


_combined_classes: dict = {}


def _combined(base: type, own: type) -> type:
    """The program's own subclass ``base`` with our methods under its own: it looks as
    the program declared it, and its overrides still come first."""
    key = (base, own)
    cls = _combined_classes.get(key)
    if cls is None:
        cls = _combined_classes[key] = type(base.__name__, (base, own), {
            "__module__": base.__module__, "__qualname__": base.__qualname__, "__slots__": ()})
    return cls


class _Shared:
    """What recorded and replayed connections do alike: cursors of our own class."""

    __slots__ = ()
    _cursor_class: type

    def cursor(self, factory=_Cursor):
        return _Connection.cursor(self, _cursor_factory(factory, self._cursor_class))

    # C's execute makes its cursor without looking up ``cursor``: a subclass's override is
    # not called for it, here either.
    def execute(self, sql, parameters=(), /):
        return _Shared.cursor(self).execute(sql, parameters)

    def executemany(self, sql, parameters, /):
        return _Shared.cursor(self).executemany(sql, parameters)

    def executescript(self, sql_script, /):
        return _Shared.cursor(self).executescript(sql_script)


def _shown_connect(database, args: tuple, kwargs: dict):
    return call_arguments((database, *args), {k: v for k, v in kwargs.items() if k != "factory"})


# -- recording ---------------------------------------------------------------------


class _Fetches:
    """The fetch methods of both cursors, over their own ``_fetch(name, shown)``: recorded,
    it runs the C method as an event; replayed, it answers from the tape."""

    __slots__ = ()

    def fetchone(self):
        return _fetched(self, "fetchone", (), self._fetch, False)

    def fetchmany(self, size=None):
        return _fetched(self, "fetchmany", (self.arraysize if size is None else size,), self._fetch, True)

    def fetchall(self):
        return _fetched(self, "fetchall", (), self._fetch, True)

    def __next__(self):
        return _fetched(self, "__next__", (), self._fetch, False)


class RecordedCursor(_Fetches, _Cursor):
    """A recorded ``sqlite3.Cursor``: the real one, each execute and fetch an event."""

    __slots__ = ("_retrace_key",)

    def __init__(self, connection, /) -> None:
        _Cursor.__init__(self, connection)
        self._retrace_key = next(_serials)

    def _call(self, method: str, shown: tuple, function, keep=None):
        keep = kept_with_calls(_Cursor.connection.__get__(self), keep)
        return _recorded("sqlite3.Cursor." + method, (self._retrace_key, *shown), function, keep)

    def execute(self, sql, parameters=(), /):
        self._call("execute", (sql, parameters), lambda: _Cursor.execute(self, sql, parameters), _outcome)
        return self

    def executemany(self, sql, seq_of_parameters, /):
        # The program's iterator runs here, as its own code, not inside the recorded call.
        rows = seq_of_parameters if isinstance(seq_of_parameters, (list, tuple)) else list(seq_of_parameters)
        self._call("executemany", (sql, len(rows)), lambda: _Cursor.executemany(self, sql, rows), _outcome)
        return self

    def executescript(self, sql_script, /):
        self._call("executescript", (sql_script,), lambda: _Cursor.executescript(self, sql_script), _outcome)
        return self

    def _fetch(self, name: str, shown: tuple):
        return self._call(name, shown, lambda: getattr(_Cursor, name)(self, *shown))

    def close(self):
        return self._call("close", (), lambda: _Cursor.close(self))


class RecordedConnection(_Shared, RecordedCallbacks, _Connection):
    """A recorded ``sqlite3.Connection``: the real one, each call that reaches the database an event."""

    __slots__ = ("_retrace_key", "_retrace_calls")
    _cursor_class = RecordedCursor

    def __init__(self, database, *args, **kwargs) -> None:
        self._retrace_key = next(_serials)
        self._retrace_calls = None  # the program's callbacks: sqlite_callbacks.py
        _recorded("sqlite3.connect", _shown_connect(database, args, kwargs),
                  lambda: _Connection.__init__(self, database, *args, **kwargs), lambda _: self._retrace_key)

    def _call(self, method: str, shown: tuple, function, keep=None):
        return _recorded("sqlite3.Connection." + method, (self._retrace_key, *shown), function,
                         kept_with_calls(self, keep))

    def commit(self):
        return self._call("commit", (), lambda: _Connection.commit(self))

    def rollback(self):
        return self._call("rollback", (), lambda: _Connection.rollback(self))

    def close(self):
        return self._call("close", (), lambda: _Connection.close(self))

    def interrupt(self):
        return self._call("interrupt", (), lambda: _Connection.interrupt(self))

    def __exit__(self, exc_type, exc_value, traceback, /):
        return self._call("__exit__", (exc_type is None,),
                          lambda: _Connection.__exit__(self, exc_type, exc_value, traceback))

    @property
    def in_transaction(self):
        return self._call("in_transaction", (), lambda: _Connection.in_transaction.__get__(self))

    @property
    def total_changes(self):
        return self._call("total_changes", (), lambda: _Connection.total_changes.__get__(self))

    def backup(self, target, *args, **kwargs):
        return self._call("backup", call_arguments(args, kwargs),
                          lambda: _Connection.backup(self, target, *args, **kwargs))

    def serialize(self, *args, **kwargs):
        return self._call("serialize", call_arguments(args, kwargs),
                          lambda: _Connection.serialize(self, *args, **kwargs))

    def deserialize(self, data, /, *args, **kwargs):
        return self._call("deserialize", (_length_and_crc(data), *args),
                          lambda: _Connection.deserialize(self, data, *args, **kwargs))

    def getlimit(self, category, /):
        return self._call("getlimit", (category,), lambda: _Connection.getlimit(self, category))

    def setlimit(self, category, limit, /):
        return self._call("setlimit", (category, limit), lambda: _Connection.setlimit(self, category, limit))

    def enable_load_extension(self, enabled, /):
        return self._call("enable_load_extension", (enabled,),
                          lambda: _Connection.enable_load_extension(self, enabled))

    def load_extension(self, *args, **kwargs):
        return self._call("load_extension", call_arguments(args, kwargs),
                          lambda: _Connection.load_extension(self, *args, **kwargs))


def _length_and_crc(data) -> list | None:
    try:
        view = memoryview(data)
        return [view.nbytes, crc32(view)]
    except (TypeError, ValueError, BufferError):
        return None


# -- replaying -----------------------------------------------------------------------


def _answer(name: str, shown: tuple):
    return _player.answer(name, shown)


def _dummy_select(names: list) -> str:
    """A statement whose columns are ``names`` and that returns no row."""
    columns = ", ".join('NULL AS "' + name.replace('"', '""') + '"' for name in names)
    return f"SELECT {columns} LIMIT 0"


class ReplayedCursor(_Fetches, _Cursor):
    """A replayed ``sqlite3.Cursor``: answers from the tape; no database file is opened."""

    __slots__ = ("_retrace_key", "_retrace_outcome")

    def __init__(self, connection, /) -> None:
        _Cursor.__init__(self, connection)
        self._retrace_key = next(_serials)
        self._retrace_outcome = [-1, None, None]

    def _answer(self, method: str, shown: tuple):
        return answered(_Cursor.connection.__get__(self), _answer("sqlite3.Cursor." + method, (self._retrace_key, *shown)))

    def _executed(self, outcome: list):
        self._retrace_outcome = outcome
        names = outcome[2]
        if names:
            # sqlite3.Row reads the column names from the C cursor: give it the recorded ones.
            _Cursor.execute(self, _dummy_select(names))
        return self

    def execute(self, sql, parameters=(), /):
        return self._executed(self._answer("execute", (sql, parameters)))

    def executemany(self, sql, seq_of_parameters, /):
        rows = seq_of_parameters if isinstance(seq_of_parameters, (list, tuple)) else list(seq_of_parameters)
        return self._executed(self._answer("executemany", (sql, len(rows))))

    def executescript(self, sql_script, /):
        return self._executed(self._answer("executescript", (sql_script,)))

    def _fetch(self, name: str, shown: tuple):
        return self._answer(name, shown)

    def close(self):
        result = self._answer("close", ())
        _Cursor.close(self)
        return result

    @property
    def rowcount(self):
        return self._retrace_outcome[0]

    @property
    def lastrowid(self):
        return self._retrace_outcome[1]

    @property
    def description(self):
        names = self._retrace_outcome[2]
        return None if names is None else tuple((name, None, None, None, None, None, None) for name in names)


class ReplayedConnection(_Shared, ReplayedCallbacks, _Connection):
    """A replayed ``sqlite3.Connection``: answers from the tape over an in-memory database."""

    __slots__ = ("_retrace_key", "_retrace_calls")
    _cursor_class = ReplayedCursor

    def __init__(self, database, *args, **kwargs) -> None:
        self._retrace_calls = None  # the program's callbacks: sqlite_callbacks.py
        next(_serials)  # the recording's connection took one: its cursors' serials are the recording's
        self._retrace_key = _answer("sqlite3.connect", _shown_connect(database, args, kwargs))
        # No file: an in-memory database that nothing writes, with the program's settings.
        _Connection.__init__(self, ":memory:", *args, **kwargs)

    def _answer(self, method: str, shown: tuple):
        return answered(self, _answer("sqlite3.Connection." + method, (self._retrace_key, *shown)))

    def commit(self):
        return self._answer("commit", ())

    def rollback(self):
        return self._answer("rollback", ())

    def close(self):
        result = self._answer("close", ())
        _Connection.close(self)
        return result

    def interrupt(self):
        return self._answer("interrupt", ())

    def __exit__(self, exc_type, exc_value, traceback, /):
        return self._answer("__exit__", (exc_type is None,))

    @property
    def in_transaction(self):
        return self._answer("in_transaction", ())

    @property
    def total_changes(self):
        return self._answer("total_changes", ())

    def backup(self, target, *args, **kwargs):
        return self._answer("backup", call_arguments(args, kwargs))

    def serialize(self, *args, **kwargs):
        return self._answer("serialize", call_arguments(args, kwargs))

    def deserialize(self, data, /, *args, **kwargs):
        return self._answer("deserialize", (_length_and_crc(data), *args))

    def getlimit(self, category, /):
        return self._answer("getlimit", (category,))

    def setlimit(self, category, limit, /):
        return self._answer("setlimit", (category, limit))

    def enable_load_extension(self, enabled, /):
        return self._answer("enable_load_extension", (enabled,))

    def load_extension(self, *args, **kwargs):
        return self._answer("load_extension", call_arguments(args, kwargs))


def _unsupported_blobopen(connection_class: type, mode: str, channel) -> None:
    from types import SimpleNamespace

    from retrace_core.boundary.unsupported import Unsupported

    entry = SimpleNamespace(qualified_name="sqlite3.Connection.blobopen", name="Connection.blobopen")
    if hasattr(_Connection, "blobopen"):
        connection_class.blobopen = getattr(Unsupported, mode)(entry, _Connection.blobopen, channel)


for _cls, _name in ((RecordedCursor, "Cursor"), (ReplayedCursor, "Cursor"), (RecordedConnection, "Connection"),
                    (ReplayedConnection, "Connection")):
    _cls.__module__, _cls.__name__, _cls.__qualname__ = "sqlite3", _name, _name
