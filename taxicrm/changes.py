"""Reading a table's changes exactly once, by the transaction that made them: how domains feed reports their facts.

A table that feeds reports stamps each row with `changed_xid`, the id (xid8) of the transaction that last changed
it. A reader remembers the snapshot it last read in, and next reads the rows *not* visible in that snapshot but
visible in a newer one: each change is read once, even one a slow transaction committed after later ones (which
a timestamp or a sequence as the watermark would skip), and none is read twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

# A snapshot in which no transaction is visible: reading changes since it reads every row.
BEGINNING = "1:1:"


@dataclass(frozen=True)
class ChangeWindow:
    """The changes made after snapshot `since` and visible in snapshot `until` (pg_snapshot text).

    `after` is the (xid, id) of the last row already read from this window, to page through a long one.
    """

    since: str
    until: str
    after: tuple[int, int] = (0, 0)

    def next_page(self, page: ChangePage) -> ChangeWindow:
        """Return the same window, after the rows of `page`."""
        return ChangeWindow(self.since, self.until, page.last)


@dataclass(frozen=True)
class ChangePage:
    """Up to a page of changed rows' facts, as a JSON array of objects, oldest change first."""

    facts: str
    count: int
    last: tuple[int, int]


def page_query(columns: str, source: str, alias: str) -> str:
    """Return SQL reading one page of changes: $1 since, $2 until, $3 and $4 the (xid, id) after, $5 the page size.

    `columns` select the facts from `source`, whose rows are `alias`; the page comes back as one JSON array.
    """
    return f"""
        SELECT coalesce(json_agg(p ORDER BY p.change_xid, p.change_id), '[]')::text AS facts, count(*) AS count,
               (array_agg(ARRAY[p.change_xid, p.change_id] ORDER BY p.change_xid DESC, p.change_id DESC))[1] AS last
        FROM (
            SELECT {columns}, {alias}.changed_xid::text::bigint AS change_xid, {alias}.id AS change_id
            FROM {source}
            WHERE {alias}.changed_xid >= pg_snapshot_xmin($1::text::pg_snapshot)
              AND NOT pg_visible_in_snapshot({alias}.changed_xid, $1::text::pg_snapshot)
              AND pg_visible_in_snapshot({alias}.changed_xid, $2::text::pg_snapshot)
              AND ({alias}.changed_xid, {alias}.id) > ($3::bigint::text::xid8, $4::bigint)
            ORDER BY {alias}.changed_xid, {alias}.id
            LIMIT $5
        ) p
    """


async def read_page(conn: asyncpg.Connection, query: str, window: ChangeWindow, limit: int) -> ChangePage:
    """Run a `page_query` for the window."""
    row = await conn.fetchrow(query, window.since, window.until, *window.after, limit)
    last = window.after if row["last"] is None else (int(row["last"][0]), int(row["last"][1]))
    return ChangePage(facts=row["facts"], count=row["count"], last=last)

