"""sqlite3: a program's database calls record and replay, with no database file in the replay."""
import json

from conftest import calls, cli, record_and_verify

SHOP_PROGRAM = """
    import sqlite3

    db = sqlite3.connect("shop.db")
    print("types", type(db).__module__, type(db).__qualname__, isinstance(db, sqlite3.Connection), repr(db).split(" at ")[0])
    db.executescript('''
        create table items (id integer primary key, name text unique, price real, photo blob);
        create table orders (item integer references items(id), quantity integer);
    ''')
    with db:
        cursor = db.executemany("insert into items (name, price, photo) values (?, ?, ?)",
                                ((name, price, bytes([len(name)])) for name, price in [("pen", 1.5), ("ink", 4.25), ("pad", 3.0)]))
        print("inserted", cursor.rowcount, cursor.lastrowid)
    cursor = db.execute("insert into orders values (?, ?)", (2, 7))
    print("order", cursor.lastrowid, cursor.rowcount, db.in_transaction, db.total_changes)
    db.commit()
    try:
        db.execute("insert into items (name, price) values ('pen', 9)")
    except sqlite3.IntegrityError as error:
        print("integrity", type(error).__name__, error, error.sqlite_errorname)
    try:
        db.execute("select nothing from nowhere")
    except sqlite3.OperationalError as error:
        print("operational", error)
    db.rollback()
    rows = db.execute("select name, price from items order by price")
    print("description", [column[0] for column in rows.description])
    print("fetchone", rows.fetchone())
    print("fetchmany", rows.fetchmany(1))
    print("fetchall", rows.fetchall())
    db.row_factory = sqlite3.Row
    for row in db.execute("select items.name, orders.quantity, photo from orders join items on items.id = orders.item"):
        print("row", type(row).__name__, row["name"], row["quantity"], row.keys(), tuple(row))
    cursor = db.cursor()
    print("cursor", type(cursor).__module__, type(cursor).__qualname__, isinstance(cursor, sqlite3.Cursor))
    cursor.execute("select count(*) as n, sum(price) from items")
    one = cursor.fetchone()
    print("count", one["n"], one[1], dict(one))
    print("dump", len(list(db.iterdump())))
    cursor.close()
    db.close()
    try:
        db.execute("select 1")
    except sqlite3.ProgrammingError as error:
        print("closed", error)
"""

EXPECTED = """\
types sqlite3 Connection True <sqlite3.Connection object
inserted 3 None
order 1 1 True 4
integrity IntegrityError UNIQUE constraint failed: items.name SQLITE_CONSTRAINT_UNIQUE
operational near "nothing": syntax error
description ['name', 'price']
fetchone ('pen', 1.5)
fetchmany [('pad', 3.0)]
fetchall [('ink', 4.25)]
row Row ink 7 ['name', 'quantity', 'photo'] ('ink', 7, b'\\x03')
cursor sqlite3 Cursor True
count 3 8.75 {'n': 3, 'sum(price)': 8.75}
dump 8
closed Cannot operate on a closed database.
"""


def test_tables_inserts_queries_rows_and_errors(record, write_program, tmp_path):
    write_program(SHOP_PROGRAM)
    for attempt in range(3):
        (tmp_path / "shop.db").unlink(missing_ok=True)
        run = record_and_verify(record, 1)
        assert run.stdout == EXPECTED
    tape = run.tape()
    # The rows are on the tape as SQLite gave them, before the row factory made Rows of them.
    assert [event.value for event in calls(tape, "sqlite3.Cursor.fetchall")][0] == [("ink", 4.25)]
    assert [event.value for event in calls(tape, "sqlite3.Cursor.__next__")][:1] == [("ink", 7, b"\x03")]
    integrity = [event for event in calls(tape, "sqlite3.Cursor.execute") if event.raised][0]
    assert integrity.value[:2] == ["sqlite3", "IntegrityError"]
    # The replay opens no database: with the file gone it replays, and writes none.
    (tmp_path / "shop.db").unlink()
    verdict = cli("verify", str(run.path), "--json")
    assert verdict.status == 0, verdict.stdout
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, EXPECTED)
    assert not (tmp_path / "shop.db").exists()
    inspected = cli("inspect", str(run.path), "--at", "end", "--json")
    assert inspected.status == 0, inspected.stderr
    state = json.loads(inspected.stdout)
    assert "divergence" not in state and state["position"] == state["end"] > 0
    assert state["frames"][0]["line"] == len(SHOP_PROGRAM.rstrip().splitlines())
    assert {local["name"]: local["type"] for local in state["frames"][0]["locals"]}["one"] == "Row"


def test_a_connection_subclass_and_a_dict_row_factory(record, write_program):
    write_program("""
        import sqlite3

        class Logged(sqlite3.Connection):
            def cursor(self, factory=sqlite3.Cursor):
                self.made = getattr(self, "made", 0) + 1
                return super().cursor(factory)

        with sqlite3.connect(":memory:", factory=Logged) as db:
            db.row_factory = lambda cursor, row: {column[0]: value for column, value in zip(cursor.description, row)}
            db.cursor().execute("create table t (a, b)")
            db.executemany("insert into t values (?, ?)", [(1, "x"), (2, None)])
            print(type(db).__name__, isinstance(db, Logged), db.execute("select * from t").fetchall(), db.made)
        db.close()
    """)
    run = record_and_verify(record, 3)
    assert run.stdout == "Logged True [{'a': 1, 'b': 'x'}, {'a': 2, 'b': None}] 1\n"


def test_the_programs_callbacks_run_in_the_replay_with_what_sqlite_gave_them(record, write_program):
    """aiosqlite's ``test_set_trace_callback``: the trace callback collects the statements and
    the test asserts on them; a replay runs no statement, so SQLite called nothing and the
    list was empty (the test failed in the replay only)."""
    write_program("""
        import os, sqlite3, threading

        seen = []
        if os.path.exists("callbacks.db"):
            os.remove("callbacks.db")  # left by the last recording
        db = sqlite3.connect("callbacks.db")
        db.set_trace_callback(lambda statement: seen.append(("trace", statement)))
        db.set_authorizer(lambda action, *names: seen.append(("authorize", action, names)) or sqlite3.SQLITE_OK)
        db.create_function("shout", 1, lambda text: seen.append(("shout", text)) or text.upper())
        db.create_collation("reverse", lambda a, b: seen.append(("collate", a, b)) or (a < b) - (a > b))
        db.set_progress_handler(lambda: seen.append(("progress",)) and 0, 1)
        db.execute("create table words (word text)")
        db.executemany("insert into words values (?)", [("b",), ("a",), ("c",)])
        rows = db.execute("select shout(word) from words order by word collate reverse").fetchall()
        db.set_trace_callback(None)
        db.execute("select 1")

        # and in a thread of its own, as aiosqlite runs every call of a connection
        def worker():
            other = sqlite3.connect("callbacks.db")
            other.set_trace_callback(lambda statement: seen.append(("thread", statement)))
            other.execute("select count(*) from words").fetchone()
            other.close()
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        db.close()
        print(rows, len(seen), sorted({entry[0] for entry in seen}))
        print([entry for entry in seen if entry[0] in ("trace", "thread", "shout")])
    """)
    run = record_and_verify(record, 2)
    lines = run.stdout.splitlines()
    assert lines[0].startswith("[('C',), ('B',), ('A',)]"), run.stdout
    assert "['authorize', 'collate', 'progress', 'shout', 'thread', 'trace']" in lines[0], run.stdout
    assert "('trace', 'select 1')" not in lines[1] and "('thread', 'select count(*) from words')" in lines[1]


def test_a_divergence_after_database_calls_does_not_blame_them(record, write_program):
    """Found in sqlalchemy's suite: a replayed connection did not take a serial as the
    recorded one did, so every cursor was named one less than on the tape, and the report of
    any later divergence pointed at the first execute: "event 3 already had other
    arguments: recorded sqlite3.Cursor.execute(2, ...), replayed sqlite3.Cursor.execute(1, ...)"."""
    write_program("""
        import os, sqlite3
        db = sqlite3.connect(":memory:")
        print(db.cursor().execute("select 1").fetchone())
        os.write(1, f"{id(object()):x}{id(db):x}\\n".encode())  # addresses: other bytes in a replay
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    replayed = cli("verify", str(run.path))
    assert replayed.status != 0 and "other bytes" in replayed.stdout, replayed.stdout
    assert "sqlite3" not in replayed.stdout, replayed.stdout


def test_verify_says_when_the_replay_ran_other_sql_than_recorded(record, write_program):
    """The rows come from the tape whatever the SQL, so a query built from an address ran as
    another query in the replay and `verify` said only "replayed exactly"; now it says so."""
    write_program("""
        import sqlite3
        db = sqlite3.connect(":memory:")
        print(db.execute(f"select {id(object()) % 100003}").fetchone() is not None)
    """)
    run = record("program.py", verify_after=False)
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0 and "matched" in verdict.stdout, verdict.stdout
    assert "note: 1 call had other arguments than recorded and was answered from the tape (the first, event " \
        in verdict.stdout and "replayed sqlite3.Cursor.execute(" in verdict.stdout, verdict.stdout
    fields = json.loads(cli("verify", str(run.path), "--json").stdout)
    assert fields["argument_differences"] == 1 and "select " in fields["first_argument_difference"]
