"""Import and export of subscriber lists as CSV: the use cases behind the CLI and the HTTP routes."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from dataclasses import dataclass, field

import asyncpg

from subscribers import import_store as store
from subscribers.importer import COLUMNS, ImportFile, ImportRow, RejectCode, Rejection, format_row, judge_taken_phones
from subscribers.phones import PhonePlan

BATCH_SIZE = 50_000
PROGRESS_EVERY = 1_000  # Rows between progress reports, and between yields to the event loop.
LOAD_ATTEMPTS = 3
EXPORT_CHUNK = 1_000  # Subscribers per chunk of exported text.
REPORT_COLUMNS = ("line", "code", "reason", *COLUMNS)


@dataclass
class ImportSummary:
    """What an import did (or, in a dry run, would have done)."""

    dry_run: bool
    rows: int = 0
    imported: int = 0
    rejected: int = 0
    already_imported: int = 0
    ignored_columns: tuple[str, ...] = ()
    rejected_by_code: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportProgress:
    """How far an import has got: rows read from the file and the bytes they took."""

    rows: int
    imported: int
    rejected: int
    bytes_read: int
    is_finished: bool = False


def _ignore(_: object) -> None:
    return None


async def import_subscribers(
    pool: asyncpg.Pool, lines: Iterable[bytes], plan: PhonePlan, *, dry_run: bool = False,
    batch_size: int = BATCH_SIZE, on_rejection: Callable[[Rejection], None] = _ignore,
    on_progress: Callable[[ImportProgress], None] = _ignore,
) -> ImportSummary:
    """Import subscribers from CSV lines (bytes), streaming, one transaction per batch of rows.

    Rows are checked as they are read; valid ones are loaded in batches whose phones the database may
    already have (then the row is rejected, as "already imported" when it was this same subscriber).
    A dry run does every check, the database ones included, and rolls each batch back. Raises
    InvalidImportFile before changing anything when the file as a whole is unusable.
    """
    counted = _ByteCounter(lines)
    rows = ImportFile(counted, plan)
    summary = ImportSummary(dry_run=dry_run, ignored_columns=rows.header.ignored)

    def reject(rejection: Rejection) -> None:
        summary.rejected += 1
        summary.rejected_by_code[rejection.code] = summary.rejected_by_code.get(rejection.code, 0) + 1
        if rejection.code is RejectCode.ALREADY_IMPORTED:
            summary.already_imported += 1
        on_rejection(rejection)

    async with pool.acquire() as conn:
        # Checking rows is Python's work and loading them PostgreSQL's: batch n loads while n + 1 is read.
        loading: asyncio.Task[int] | None = None
        batch: list[ImportRow] = []
        try:
            for item in rows:
                summary.rows += 1
                if isinstance(item, Rejection):
                    reject(item)
                else:
                    batch.append(item)
                if len(batch) >= batch_size:
                    if loading is not None:
                        summary.imported += await loading
                    loading = asyncio.create_task(_load(conn, batch, dry_run, reject))
                    batch = []
                if summary.rows % PROGRESS_EVERY == 0:
                    on_progress(ImportProgress(summary.rows, summary.imported, summary.rejected, counted.total))
                    await asyncio.sleep(0)  # Let the load (and, in the server, other requests) go on.
            if loading is not None:
                summary.imported += await loading
                loading = None
            if batch:
                summary.imported += await _load(conn, batch, dry_run, reject)
        finally:
            if loading is not None:
                await _abandon(loading)
    on_progress(ImportProgress(summary.rows, summary.imported, summary.rejected, counted.total, is_finished=True))
    return summary


async def _abandon(task: asyncio.Task[int]) -> None:
    """Stop a batch load after the reading failed, so the connection goes back to the pool idle."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # Retrieved so it is not logged as lost: the reading's error is the one that matters.


async def _load(conn: asyncpg.Connection, batch: list[ImportRow], dry_run: bool,
                reject: Callable[[Rejection], None]) -> int:
    """Load one batch in one transaction; return how many subscribers it added (or would add, in a dry run)."""
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        transaction = conn.transaction()
        await transaction.start()
        try:
            await store.stage_rows(conn, batch)
            rejections = judge_taken_phones(batch, await store.taken_phones(conn))
            await store.drop_staged_lines(conn, [rejection.line for rejection in rejections])
            imported = len(batch) - len(rejections) if dry_run else await store.insert_staged(conn)
        except asyncpg.UniqueViolationError:
            # Someone saved one of these numbers between our check and our insert: check again.
            await transaction.rollback()
            if attempt == LOAD_ATTEMPTS:
                raise
            continue
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
        for rejection in rejections:
            reject(rejection)
        return imported
    return 0  # Unreachable: the last attempt returns or raises.


class _ByteCounter:
    """Passes lines through, counting their bytes for the progress report."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.total = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            self.total += len(line)
            yield line


def count_rows(lines: Iterable[bytes]) -> int:
    """Estimate a file's data rows from its line count (quoted fields spanning lines make it an upper bound)."""
    return max(sum(1 for _ in lines) - 1, 0)


def report_row(rejection: Rejection) -> list[str]:
    """Return a rejection as a row of the report CSV (REPORT_COLUMNS): line, code, reason and the row itself.

    A fixed report imports as it is: the import ignores the line, code and reason columns.
    """
    source = rejection.source
    return [str(rejection.line), rejection.code, rejection.reason, source.name, source.phones, source.addresses]


async def export_subscribers(pool: asyncpg.Pool, *, on_progress: Callable[[int], None] = _ignore
                             ) -> AsyncGenerator[str, None]:
    """Yield every live subscriber as CSV text in the import layout, header (after a BOM) first.

    The BOM tells spreadsheet programs the file is UTF-8, so Persian text opens readable; import accepts it.
    `on_progress` hears how many subscribers have been written so far, after each chunk.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        count = 0
        async for record in store.export_records(conn):
            writer.writerow(format_row(record["name"], record["phones"], record["addresses"]))
            count += 1
            if count % EXPORT_CHUNK == 0:
                on_progress(count)
                yield _drain(buffer)
    on_progress(count)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
