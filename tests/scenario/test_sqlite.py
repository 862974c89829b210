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
