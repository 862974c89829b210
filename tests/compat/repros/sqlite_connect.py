"""Issue 14 cause 5, still open (sqlite-utils: every test): sqlite3 is not replayable.

verify and the engine stop at the first connection: "replay cannot go past
sqlite3.dbapi2.connect: its I/O is not on the tape"."""
import sqlite3

connection = sqlite3.connect(":memory:")
connection.execute("create table t (x)")
connection.execute("insert into t values (1)")
print(connection.execute("select x from t").fetchall())
connection.close()
