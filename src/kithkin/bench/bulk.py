"""Raw bulk inserts for the benchmark scenarios: millions of rows in minutes.

Model instances for millions of rows would take far too long, so each table's row is a
template prepared once by Django's own field preparation (encrypted fields hold real
ciphertext), with the varying columns filled in per row and sent with ``executemany``."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from typing import Any

CHUNK = 20_000


def _converter(field: Any, connection: Any) -> Callable[[Any], Any]:
    """What Django's get_db_prep_save gives for this field, done directly for the hot types:
    through the field for millions of values, it would take longer than the inserts."""
    target = field.target_field if field.is_relation else field
    kind = target.get_internal_type()
    if kind == "UUIDField":
        if connection.features.has_native_uuid_field:
            return lambda value: value
        return lambda value: None if value is None else value.hex
    if kind == "DateTimeField" and connection.vendor == "sqlite":
        # As the SQLite backend stores an aware time: naive UTC text.
        return lambda value: (
            None if value is None else str(value.astimezone(datetime.UTC).replace(tzinfo=None))
        )
    if kind in {"BooleanField", "FloatField", "PositiveSmallIntegerField", "AutoField",
                "BigAutoField", "IntegerField"}:  # fmt: skip
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


def _as_is(value: Any) -> Any:
    return value


class _Table:
    """Raw inserts for one model: a template row from Django's field preparation, with the
    named columns supplied per row. Columns named in ``prepared`` are passed through as given:
    the caller prepared them once (see :meth:`prepare`), e.g. a pool of encrypted names or
    of JSON documents reused across many rows."""

    def __init__(
        self,
        template: Any,
        varying: Sequence[str],
        prepared: Sequence[str] = (),
        *,
        copy: bool = False,
    ) -> None:
        from django.db import DEFAULT_DB_ALIAS, connections, models

        connection = connections[DEFAULT_DB_ALIAS]
        model = type(template)
        # An automatic primary key is left to the database (NULL is refused on PostgreSQL).
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.attname in varying or not isinstance(f, models.AutoField | models.BigAutoField)
        ]
        by_name = {field.attname: field for field in fields}
        self.by_name = by_name
        fixed = [f for f in fields if f.attname not in varying]
        self.fixed_values = [
            f.get_db_prep_save(getattr(template, f.attname), connection) for f in fixed
        ]
        self.convert = [
            _as_is if name in prepared else _converter(by_name[name], connection)
            for name in varying
        ]
        columns = [f.column for f in fixed] + [by_name[name].column for name in varying]
        quote = connection.ops.quote_name
        names = ", ".join(quote(column) for column in columns)
        marks = ", ".join(["%s"] * len(columns))
        # Table and column names come from the model, never from input.
        self.sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608  # nosec B608
        # PostgreSQL's COPY takes the rows in one stream: several times faster than INSERTs.
        self.copy_sql = (
            f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
            if copy and connection.vendor == "postgresql"
            else ""
        )

    def prepare(self, name: str, value: Any) -> Any:
        """``value`` as the database takes it for column ``name`` (for ``prepared`` columns)."""
        from django.db import connection

        return self.by_name[name].get_db_prep_save(value, connection)

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        from django.db import connection

        fixed, convert = self.fixed_values, self.convert
        prepared = [[*fixed, *(c(v) for c, v in zip(convert, row, strict=True))] for row in rows]
        with connection.cursor() as cursor:
            if self.copy_sql:
                with cursor.copy(self.copy_sql) as stream:
                    for row in prepared:
                        stream.write_row(row)
            else:
                cursor.executemany(self.sql, prepared)


def _chunks(rows: Iterator[Sequence[Any]], size: int = CHUNK) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
