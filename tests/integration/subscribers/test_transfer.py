import contextlib
import csv
import os
import subprocess
import sys

import pytest

from subscribers import transfer
from subscribers.importer import InvalidImportFile, RejectCode
from subscribers.phones import PhonePlan
from tests.support import ROOT

PLAN = PhonePlan(region="IR", area_code="21")

FILE = """\ufeffname,phones,addresses
علی رضایی,۰۹۱۲ ۱۲۳ ۴۵۶۷|همراه;88001122,"خانه|خیابان ولیعصر، پلاک ۱۲|روبروی بانک|35.7|51.4;محل کار"
Sara Karimi,09131234567,
Reza,12,
Mina,09121234567,
,09141234567,
Nima,09151234567;09161234567,Office|Azadi Sq\\; gate 2
"""


def lines(text: str, encoding: str = "utf-8") -> list[bytes]:
    return text.encode(encoding).splitlines(keepends=True)


async def run_import(db, text, *, dry_run=False, batch_size=transfer.BATCH_SIZE, encoding="utf-8"):
    rejections, progress = [], []
    summary = await transfer.import_subscribers(db, lines(text, encoding), PLAN, dry_run=dry_run,
                                                batch_size=batch_size, on_rejection=rejections.append,
                                                on_progress=progress.append)
    return summary, rejections, progress


async def counts(db):
    return tuple(await db.fetchrow("SELECT (SELECT count(*) FROM subscribers) AS subscribers, "
                                   "(SELECT count(*) FROM subscriber_phones) AS phones, "
                                   "(SELECT count(*) FROM subscriber_addresses) AS addresses"))


async def make_subscriber(db, name, *phones, merged_into=None):
    async with db.acquire() as conn, conn.transaction():
        subscriber_id = await conn.fetchval(
            "INSERT INTO subscribers (name, name_key, merged_into) VALUES ($1, lower($1), $2) RETURNING id",
            name, merged_into)
        for e164 in phones:
            await conn.execute("INSERT INTO subscriber_phones (subscriber_id, e164, raw, national, kind) "
                               "VALUES ($1, $2, $2, substr($2, 4), 'mobile')", subscriber_id, e164)
    return subscriber_id


async def export_text(db):
    async with contextlib.aclosing(transfer.export_subscribers(db)) as chunks:
        return "".join([chunk async for chunk in chunks])


@pytest.mark.parametrize("batch_size", [transfer.BATCH_SIZE, 2])
async def test_an_import_creates_subscribers_with_phones_and_addresses(db, batch_size):
    summary, rejections, progress = await run_import(db, FILE, batch_size=batch_size)
    assert (summary.rows, summary.imported, summary.rejected) == (6, 3, 3)
    assert [(r.line, r.code) for r in rejections] == [
        (4, RejectCode.BAD_PHONE), (5, RejectCode.DUPLICATE_IN_FILE), (6, RejectCode.MISSING_NAME)]
    assert progress[-1].rows == 6 and progress[-1].bytes_read == len(FILE.encode())
    assert await counts(db) == (3, 5, 3)
    ali = await db.fetchrow("SELECT s.name, s.name_key, p.raw, p.national, p.kind, p.label "
                            "FROM subscribers s JOIN subscriber_phones p ON p.subscriber_id = s.id "
                            "WHERE p.e164 = '+989121234567'")
    assert tuple(ali) == ("علی رضایی", "علیرضایی", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "9121234567", "mobile", "همراه")
    addresses = await db.fetch("SELECT a.label, a.full_text, a.text_key, a.landmark, a.lat, a.lng "
                               "FROM subscriber_addresses a JOIN subscribers s ON s.id = a.subscriber_id "
                               "ORDER BY a.id")
    assert [tuple(a) for a in addresses] == [
        ("خانه", "خیابان ولیعصر، پلاک 12", "خیابانولیعصر،پلاک12", "روبروی بانک", 35.7, 51.4),
        ("", "محل کار", "محلکار", None, None, None),
        ("Office", "Azadi Sq; gate 2", "azadisq;gate2", None, None, None),
    ]


async def test_reimporting_the_same_file_imports_nothing_twice(db):
    await run_import(db, FILE)
    before = await counts(db)
    summary, rejections, _ = await run_import(db, FILE, batch_size=2)
    assert (summary.imported, summary.already_imported) == (0, 3)
    assert sorted(r.line for r in rejections if r.code is RejectCode.ALREADY_IMPORTED) == [2, 3, 7]
    assert await counts(db) == before


async def test_a_phone_of_another_subscriber_rejects_the_row_and_names_the_owner(db):
    owner = await make_subscriber(db, "Owner", "+989131234567")
    summary, rejections, _ = await run_import(
        db, "name,phones\nSara,09131234567;09171234567\nReza,09181234567\n")
    assert summary.imported == 1
    [taken] = rejections
    assert (taken.line, taken.code) == (2, RejectCode.PHONE_TAKEN)
    assert taken.reason == f"phone +989131234567 already belongs to subscriber {owner}"
    assert taken.source.phones == "09131234567;09171234567"
    assert await db.fetchval("SELECT count(*) FROM subscriber_phones WHERE e164 = '+989171234567'") == 0


async def test_a_dry_run_checks_against_the_database_and_changes_nothing(db):
    await make_subscriber(db, "Owner", "+989131234567")
    before = await counts(db)
    next_id = await db.fetchval("SELECT last_value FROM subscribers_id_seq")
    summary, rejections, _ = await run_import(db, FILE, dry_run=True, batch_size=2)
    assert summary.dry_run and (summary.rows, summary.imported, summary.rejected) == (6, 2, 4)
    assert (3, RejectCode.PHONE_TAKEN) in [(r.line, r.code) for r in rejections]
    assert await counts(db) == before
    assert await db.fetchval("SELECT last_value FROM subscribers_id_seq") == next_id


async def test_a_file_in_another_encoding_is_rejected_row_by_row_and_imports_nothing(db):
    summary, rejections, _ = await run_import(db, "name,phones\nرضا,09121234567\nسارا,09131234567\n",
                                              encoding="cp1256")
    assert (summary.imported, summary.rejected) == (0, 2)
    assert {r.code for r in rejections} == {RejectCode.BAD_ENCODING}
    assert await counts(db) == (0, 0, 0)


async def test_an_unusable_file_changes_nothing(db):
    with pytest.raises(InvalidImportFile, match="UTF-16"):
        await run_import(db, "name,phones\nSara,09121234567\n", encoding="utf-16")
    with pytest.raises(InvalidImportFile, match="no column 'phones'"):
        await run_import(db, "name,telephone\nSara,09121234567\n")
    assert await counts(db) == (0, 0, 0)


async def test_an_export_imports_back_unchanged(db):
    await run_import(db, FILE)
    merged_into = await db.fetchval("SELECT min(id) FROM subscribers")
    await make_subscriber(db, "Merged away", "+989191234567", merged_into=merged_into)
    exported = await export_text(db)
    assert exported.startswith("\ufeffname,phones,addresses\n")
    assert "Merged away" not in exported
    assert exported.splitlines()[1:] == [
        "علی رضایی,+989121234567|همراه;+982188001122,"
        "خانه|خیابان ولیعصر، پلاک 12|روبروی بانک|35.7|51.4;محل کار",
        "Sara Karimi,+989131234567,",
        r"Nima,+989151234567;+989161234567,Office|Azadi Sq\; gate 2",
    ]
    summary, _, _ = await run_import(db, exported)
    assert (summary.rows, summary.already_imported, summary.imported) == (3, 3, 0)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM subscribers")
    summary, _, _ = await run_import(db, exported)
    assert (summary.imported, summary.rejected) == (3, 0)
    assert await export_text(db) == exported


async def test_an_empty_database_exports_the_header_alone(db):
    assert await export_text(db) == "\ufeffname,phones,addresses\n"


def test_the_commands_import_with_a_report_and_export(database_url, tmp_path):
    source, report, exported = tmp_path / "list.csv", tmp_path / "rejected.csv", tmp_path / "out.csv"
    source.write_text(FILE, encoding="utf-8")

    def taxicrm(*args):
        return subprocess.run([sys.executable, "-m", "taxicrm", *args], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": database_url, "TAXICRM_LOG_LEVEL": "warning"},
                              timeout=120)

    dry = taxicrm("import-subscribers", str(source), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: would import 3 of 6 row(s); rejected 3" in dry.stdout and "nothing was changed" in dry.stdout
    assert "line 4: bad_phone: phone '12'" in dry.stdout
    done = taxicrm("import-subscribers", str(source), "--report", str(report))
    assert done.returncode == 0 and "imported 3 of 6 row(s)" in done.stdout
    assert "6/6 rows (100%)" in done.stderr
    with report.open(encoding="utf-8", newline="") as rows:
        assert [row[:3] for row in csv.reader(rows)] == [
            ["line", "code", "reason"], ["4", "bad_phone", "phone '12': it has too few or too many digits"],
            ["5", "duplicate_in_file", "phone +989121234567 is also on line 2"],
            ["6", "missing_name", "the name is empty"]]
    out = taxicrm("export-subscribers", str(exported))
    assert out.returncode == 0 and "exported 3 subscriber(s)" in out.stdout
    again = taxicrm("import-subscribers", str(exported))
    assert "imported 0 of 3 row(s); rejected 3 (3 already imported)" in again.stdout
    missing = taxicrm("import-subscribers", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 1 and missing.stderr.startswith("taxicrm: cannot open")
