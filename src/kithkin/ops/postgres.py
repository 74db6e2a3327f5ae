"""Reaching a PostgreSQL database from pg_dump, pg_restore and psycopg without showing its
password: the parts of the URL go to the tools as libpq environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import dj_database_url
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


@dataclass(frozen=True)
class Database:
    name: str
    user: str = ""
    password: str = field(default="", repr=False)
    host: str = ""
    port: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, database: Mapping[str, Any]) -> Database:
        options = {
            key: str(value)
            for key, value in (database.get("OPTIONS") or {}).items()
            if key in _LIBPQ_OPTIONS
        }
        return cls(
            name=str(database.get("NAME") or ""),
            user=str(database.get("USER") or ""),
            password=str(database.get("PASSWORD") or ""),
            host=str(database.get("HOST") or ""),
            port=str(database.get("PORT") or ""),
            options=options,
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        if not url.startswith(("postgres://", "postgresql://")):
            raise ValueError("not a PostgreSQL URL")
        return cls.from_settings(dj_database_url.parse(url))

    def describe(self) -> str:
        """How messages name the database: never with its password."""
        where = self.host or "the local server"
        return f'database "{self.name}" on {where}' + (f":{self.port}" if self.port else "")

    def env(self) -> dict[str, str]:
        """The environment for pg_dump and pg_restore (this process's, plus the PG* parts)."""
        env = dict(os.environ)
        parts = {"PGDATABASE": self.name, "PGUSER": self.user, "PGPASSWORD": self.password,
                 "PGHOST": self.host, "PGPORT": self.port}  # fmt: skip
        parts |= {_LIBPQ_OPTIONS[key]: value for key, value in self.options.items()}
        env.update({key: value for key, value in parts.items() if value})
        return env

    def connect(self, **kwargs: Any) -> psycopg.Connection[tuple[Any, ...]]:
        params = {"dbname": self.name, "user": self.user, "password": self.password,
                  "host": self.host, "port": self.port, **self.options}  # fmt: skip
        conninfo = make_conninfo("", **{k: v for k, v in params.items() if v})
        return psycopg.connect(conninfo, **kwargs)


def table_names(connection: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[str, str]]:
    return [
        (str(schema), str(table))
        for schema, table in connection.execute(
            "SELECT schemaname, tablename FROM pg_catalog.pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
    ]


def row_counts(connection: psycopg.Connection[tuple[Any, ...]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for schema, table in table_names(connection):
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = connection.execute(query).fetchone()
        counts[table if schema == "public" else f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def latest_migrations(connection: psycopg.Connection[tuple[Any, ...]]) -> dict[str, str]:
    if ("public", "django_migrations") not in table_names(connection):
        return {}
    rows = connection.execute(
        "SELECT app, name FROM django_migrations WHERE id IN "
        "(SELECT max(id) FROM django_migrations GROUP BY app)"
    ).fetchall()
    return {str(app): str(name) for app, name in rows}


# A failed COPY or constraint quotes the offending values ("Key (email)=(...)", "DETAIL: ...");
# those are client data, so only the tool's error lines go out, with any values cut.
_VALUES = re.compile(r"=\(.*?\)(?=\s|$)")
_LITERAL = re.compile(r'(for type [\w ]+:) ".*"')


def error_summary(stderr: IO[bytes]) -> str:
    stderr.seek(0)
    lines = []
    for raw in stderr.read().decode(errors="replace").splitlines():
        if "error:" not in raw or raw.lstrip().startswith(("DETAIL", "CONTEXT", "LINE")):
            continue
        line = raw.split("DETAIL:")[0]
        line = _LITERAL.sub(r'\1 "..."', _VALUES.sub("=(...)", line)).strip()
        if line and line not in lines:
            lines.append(line)
    return "\n".join(lines[:5]) or "(it gave no error message)"
