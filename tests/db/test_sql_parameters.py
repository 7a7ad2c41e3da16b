"""SQL in db/ takes values only through bound parameters.

Every call that runs SQL text (``text()``, ``execute``, ``executemany``,
``exec_driver_sql``, ``executescript``, psycopg's ``copy``) is found in the
source with :mod:`ast`. Its statement may be built with an f-string, ``%``,
``.format`` or ``+`` only if it is listed below with the reason it is safe:
nothing formatted into it comes from a person or a file. A new one fails the
first test until someone has read it and listed it; a listed one that is gone
fails the second, so that the list stays true.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXECUTORS = {
    "text",
    "execute",
    "executemany",
    "exec_driver_sql",
    "executescript",
    "copy",
}

_TABLE_NAME = "a table name from the SQLModel metadata, quoted as an identifier"
REVIEWED: dict[tuple[str, str, str], str] = {
    (
        "db/engine.py",
        "_configure_sqlite",
        "f'PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}'",
    ): "an integer constant of the module; PRAGMA takes no parameters",
    (
        "db/importer.py",
        "_hold_off_other_writers",
        "f'LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE'",
    ): "table names from the models, quoted by the dialect; LOCK takes no parameters",
    (
        "db/bulk.py",
        "worth_rebuilding",
        "f'SELECT 1 FROM {_quoted(table.name)} LIMIT 1'",
    ): _TABLE_NAME,
    (
        "db/bulk.py",
        "drop_sqlite_indexes",
        "f'DROP INDEX {_quoted(name)}'",
    ): "an index name just read from sqlite_master for a model table, quoted",
    (
        "db/bulk.py",
        "sqlite_insert",
        "f'INSERT INTO {_quoted(table.name)} ({columns}) VALUES ({marks})'",
    ): f"{_TABLE_NAME}; columns are the frame's canonical column names, quoted; "
    "the values go through '?' placeholders",
    (
        "db/bulk.py",
        "_load_sqlite",
        "f'PRAGMA cache_size = {-SQLITE_LOAD_CACHE_KIB}'",
    ): "an integer constant of the module",
    (
        "db/bulk.py",
        "_load_sqlite",
        "f'PRAGMA cache_size = {int(previous_cache)}'",
    ): "the integer SQLite itself answered a moment before, passed through int()",
    (
        "db/bulk.py",
        "_pragma",
        "f'PRAGMA {setting}'",
    ): "callers pass literal PRAGMA names written in bulk.py",
    (
        "db/bulk.py",
        "_sqlite_foreign_keys",
        "f'PRAGMA foreign_key_list({_quoted(table.name)})'",
    ): _TABLE_NAME,
    (
        "db/bulk.py",
        "_adbc_statements",
        "f'PRAGMA foreign_key_check({_quoted(table.name)})'",
    ): _TABLE_NAME,
    (
        "db/bulk.py",
        "_drop_postgres_indexes_and_keys",
        "f'ALTER TABLE {relation} DROP CONSTRAINT {_quoted(name)}'",
    ): "a model table and a constraint name just read from pg_constraint, quoted",
    (
        "db/bulk.py",
        "_drop_postgres_indexes_and_keys",
        "f'DROP INDEX {_quoted(name)}'",
    ): "an index name just read from pg_index for a model table, quoted",
    (
        "db/bulk.py",
        "postgres_copy",
        "f'COPY {_quoted(table.name)} ({columns}) FROM STDIN ({options})'",
    ): f"{_TABLE_NAME}; canonical column names, quoted; options is one of two "
    "literals; the rows travel as COPY data, never as SQL",
    (
        "db/bulk.py",
        "_move_sequence",
        "f\"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "
        '{_quoted(table.name)}))"',
    ): f"{_TABLE_NAME}; the sequence's table is a bound %s parameter",
    (
        "db/bulk.py",
        "_postgres_orphan_check",
        "f\"SELECT {', '.join(child)} FROM {_quoted(table.name)} c WHERE {present} "
        "AND NOT EXISTS (SELECT 1 FROM {_quoted(key.parent)} p WHERE {matched}) "
        'LIMIT 1"',
    ): f"{_TABLE_NAME}; the parent table and every column name were just read "
    "from pg_constraint for it, each quoted; no value is written into the SQL",
    (
        "db/bulk.py",
        "_load_postgres",
        "f\"SET LOCAL maintenance_work_mem = '{POSTGRES_MAINTENANCE_WORK_MEM}'\"",
    ): "a string constant of the module; SET takes no parameters",
    (
        "db/bulk.py",
        "_load_postgres",
        "f\"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'\"",
    ): "a string constant of the module; SET takes no parameters",
    (
        "db/snapshot.py",
        "_load_postgres_copy",
        "f'COPY ({sql}) TO STDOUT WITH (FORMAT csv)'",
    ): "the loader's SELECT compiled by SQLAlchemy from the models, its columns "
    "looked up in ESCALATION_COLUMNS; COPY cannot take bound parameters",
}


def _formatted(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> bool:
    """Whether ``node`` builds a string from pieces rather than writing it out."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return isinstance(node.left, ast.Constant | ast.JoinedStr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and isinstance(
            node.func.value, ast.Constant | ast.JoinedStr
        )
    if isinstance(node, ast.Name):
        return any(_formatted(value, {}) for value in assigned.get(node.id, []))
    return False


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def formatted_sql(source: str) -> Iterator[tuple[str, str]]:
    """(function, statement) of each SQL-running call given a built string."""
    tree = ast.parse(source)
    scopes: list[ast.AST] = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    for scope in [tree, *scopes]:
        name = getattr(scope, "name", "<module>")
        # Walk this scope only, not the functions nested in it.
        nodes: list[ast.AST] = []
        stack = list(ast.iter_child_nodes(scope))
        while stack:
            node = stack.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            nodes.append(node)
            stack.extend(ast.iter_child_nodes(node))
        assigned: dict[str, list[ast.expr]] = {}
        for node in nodes:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in nodes:
            if not (isinstance(node, ast.Call) and node.args):
                continue
            if _called(node) not in EXECUTORS:
                continue
            statement = node.args[0]
            if not _formatted(statement, assigned):
                continue
            if isinstance(statement, ast.Name):
                for value in assigned[statement.id]:
                    yield name, ast.unparse(value)
            else:
                yield name, ast.unparse(statement)


def found_in_db() -> set[tuple[str, str, str]]:
    """Every built SQL statement in the db package, with file and function."""
    return {
        (path.relative_to(ROOT).as_posix(), function, statement)
        for path in sorted((ROOT / "db").rglob("*.py"))
        for function, statement in formatted_sql(path.read_text(encoding="utf-8"))
    }


def test_every_built_sql_statement_in_db_has_been_reviewed() -> None:
    unreviewed = sorted(found_in_db() - set(REVIEWED))

    assert unreviewed == [], (
        "SQL built from pieces: bind the values as parameters, or add the "
        "statement to REVIEWED with the reason nothing from a user reaches it"
    )


def test_every_reviewed_statement_still_exists() -> None:
    assert sorted(set(REVIEWED) - found_in_db()) == []


def test_the_scan_finds_each_way_of_building_sql() -> None:
    source = """
def bad(connection, cursor, name, value):
    connection.execute(text(f"SELECT * FROM t WHERE name = '{name}'"))
    cursor.execute("SELECT * FROM t WHERE id = %s" % value)
    connection.exec_driver_sql("DELETE FROM {}".format(name))
    statement = "UPDATE t SET a = " + value
    cursor.executemany(statement, [])

def good(connection, cursor, name):
    connection.execute(text("SELECT * FROM t WHERE name = :name"), {"name": name})
    cursor.execute("SELECT * FROM t WHERE id = %s", (name,))
    connection.execute(select(table).where(table.c.name == name))
"""

    found = sorted(formatted_sql(source))

    assert found == sorted(
        [
            ("bad", "f\"SELECT * FROM t WHERE name = '{name}'\""),
            ("bad", "'SELECT * FROM t WHERE id = %s' % value"),
            ("bad", "'DELETE FROM {}'.format(name)"),
            ("bad", "'UPDATE t SET a = ' + value"),
        ]
    )
