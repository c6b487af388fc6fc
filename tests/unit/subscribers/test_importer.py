import csv
import io

import pytest

from subscribers.importer import (
    ImportAddress,
    ImportFile,
    ImportRow,
    InvalidImportFile,
    PhoneOwner,
    RejectCode,
    Rejection,
    format_row,
    judge_taken_phones,
)
from subscribers.phones import PhonePlan

PLAN = PhonePlan(region="IR", area_code="21")
HEADER = "name,phones,addresses\n"


def read(text: str | bytes) -> list[ImportRow | Rejection]:
    data = text.encode() if isinstance(text, str) else text
    return list(ImportFile(data.splitlines(keepends=True), PLAN))


def only(text: str | bytes) -> ImportRow | Rejection:
    [item] = read(text)
    return item


def rejected(text: str | bytes) -> Rejection:
    item = only(text)
    assert isinstance(item, Rejection), item
    return item


def test_a_full_row_is_parsed_with_persian_digits_labels_and_coordinates():
    row = only(HEADER + "علی  رضایی,۰۹۱۲ ۱۲۳ ۴۵۶۷|همراه;88001122,"
                        "\"خانه|خیابان ولیعصر، پلاک ۱۲|روبروی بانک|۳۵٫۷|51.4;محل کار\"\n")
    assert isinstance(row, ImportRow)
    assert (row.line, row.name, row.name_key) == (2, "علی رضایی", "علیرضایی")
    assert [(p.e164, p.raw, p.national, p.kind, p.label) for p in row.phones] == [
        ("+989121234567", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "9121234567", "mobile", "همراه"),
        ("+982188001122", "88001122", "2188001122", "landline", None),
    ]
    assert row.addresses == (
        ImportAddress("خانه", "خیابان ولیعصر، پلاک 12", "خیابانولیعصر،پلاک12", "روبروی بانک", 35.7, 51.4),
        ImportAddress("", "محل کار", "محلکار", None, None, None),
    )


def test_a_byte_order_mark_before_the_header_is_ignored():
    row = only(b"\xef\xbb\xbf" + (HEADER + "Sara,09121234567,\n").encode())
    assert isinstance(row, ImportRow) and row.name == "Sara"


def test_columns_may_come_in_any_order_and_unknown_ones_are_ignored():
    imported = ImportFile([b"Phones,notes,Name\n", b"09121234567,vip,Sara\n"], PLAN)
    assert imported.header.ignored == ("notes",)
    [row] = list(imported)
    assert isinstance(row, ImportRow) and (row.name, row.addresses) == ("Sara", ())


@pytest.mark.parametrize(
    ("row", "code", "words"),
    [
        (",09121234567,", RejectCode.MISSING_NAME, "name is empty"),
        ("Sara", RejectCode.NO_PHONE, "no phone"),
        ("Sara, ; ,", RejectCode.NO_PHONE, "no phone"),
        ("Sara,12,", RejectCode.BAD_PHONE, "'12': it has too few or too many digits"),
        ("Sara,0912abc4567,", RejectCode.BAD_PHONE, "characters other than digits"),
        ("Sara,09121234567|a|b,", RejectCode.BAD_PHONE, "more than one '|'"),
        ("Sara,09121234567,Home|", RejectCode.BAD_ADDRESS, "address 1 has no text"),
        ("Sara,09121234567,a|b|c|d|e|f", RejectCode.BAD_ADDRESS, "more than 5 parts"),
        ("Sara,09121234567,Home|Street|x|35.7|", RejectCode.BAD_ADDRESS, "only one of lat and lng"),
        ("Sara,09121234567,Home|Street||north|east", RejectCode.BAD_ADDRESS, "not a number"),
        ("Sara,09121234567,Home|Street||95|51", RejectCode.BAD_ADDRESS, "out of range"),
        ("Sara,09121234567,Home|Street||nan|51", RejectCode.BAD_ADDRESS, "out of range"),
        ("a,b,c,d", RejectCode.MALFORMED, "4 fields but the header has 3"),
        ("Sa\x00ra,09121234567,", RejectCode.BAD_TEXT, "control characters"),
    ],
)
def test_a_bad_row_is_rejected_with_its_reason(row, code, words):
    rejection = rejected(HEADER + row + "\n")
    assert (rejection.line, rejection.code) == (2, code)
    assert words in rejection.reason


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("N" * 201 + ",09121234567,", "name is longer than 200"),
        ("Sara,09121234567|" + "L" * 51 + ",", "label of phone '09121234567' is longer than 50"),
        ("Sara,09121234567,Home|" + "t" * 501, "text of address 1 is longer than 500"),
        ("Sara,09121234567,Home|Street|" + "m" * 301, "landmark of address 1 is longer than 300"),
        ("Sara," + ";".join(f"0912123456{i}" for i in range(10)) + ";09131234567,", "more than 10 phone numbers"),
        ("Sara,09121234567," + ";".join(["Street"] * 21), "more than 20 addresses"),
    ],
)
def test_oversize_text_is_rejected_not_cut(row, words):
    rejection = rejected(HEADER + row + "\n")
    assert rejection.code is RejectCode.OVERSIZE and words in rejection.reason


def test_a_phone_on_an_earlier_line_is_a_duplicate_whatever_its_spelling():
    items = read(HEADER + "Sara,09121234567,\nReza,+98 912 123 4567,\nMina,۰۰۹۸۹۱۲۱۲۳۴۵۶۷;09131234567,\n")
    assert isinstance(items[0], ImportRow)
    for item in items[1:]:
        assert isinstance(item, Rejection) and item.code is RejectCode.DUPLICATE_IN_FILE
        assert item.reason == "phone +989121234567 is also on line 2"


def test_phones_of_a_rejected_row_do_not_make_later_rows_duplicates():
    items = read(HEADER + ",09121234567,\nSara,09121234567,\n")
    assert isinstance(items[0], Rejection) and isinstance(items[1], ImportRow)


def test_the_same_number_twice_in_one_row_counts_once():
    row = only(HEADER + "Sara,09121234567;0912 123 4567,\n")
    assert isinstance(row, ImportRow) and [p.e164 for p in row.phones] == ["+989121234567"]


def test_a_row_that_is_not_utf8_is_rejected_alone_and_reported_readably():
    data = HEADER.encode() + b"Sara,09121234567,\n" + "رضا,09131234567,\n".encode("cp1256")
    good, bad = read(data)
    assert isinstance(good, ImportRow)
    assert isinstance(bad, Rejection) and bad.code is RejectCode.BAD_ENCODING and bad.line == 3
    assert "\ufffd" in bad.source.name and bad.source.phones == "09131234567"


def test_line_numbers_count_blank_lines_and_quoted_line_breaks():
    items = read(HEADER + "\n\"Sara\nKarimi\",09121234567,\nReza,12,\n")
    assert [item.line for item in items] == [3, 5]
    assert isinstance(items[0], ImportRow) and items[0].name == "Sara Karimi"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        ("name,phones\n".encode("utf-16"), "UTF-16"),
        (b"name,addresses\nSara,Street\n", "no column 'phones'"),
        (b"full name,phone\n", "no column 'name', 'phones'"),
        (b"nam\xe9,phones\n", "not UTF-8"),
    ],
)
def test_an_unusable_file_is_refused_as_a_whole(data, words):
    with pytest.raises(InvalidImportFile) as raised:
        list(ImportFile(data.splitlines(keepends=True), PLAN))
    assert words in raised.value.message


def test_escaped_separators_stand_for_themselves():
    row = only(HEADER + r"Sara,09121234567|a\|b,Home\;Work|Street 1\; Block 2\\3" + "\n")
    assert isinstance(row, ImportRow)
    assert row.phones[0].label == "a|b"
    assert (row.addresses[0].label, row.addresses[0].full_text) == ("Home;Work", "Street 1; Block 2\\3")


def test_an_exported_row_reads_back_the_same():
    fields = format_row("Sara; Karimi", [("+989121234567", "a|b"), ("+982188001122", None)],
                        [("", "Street; 1", None, None, None), ("Home", "Vali Asr|12\\3", "bank", 35.7, 51.41)])
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    row = only(HEADER + buffer.getvalue())
    assert isinstance(row, ImportRow)
    assert row.name == "Sara; Karimi"
    assert [(p.e164, p.label) for p in row.phones] == [("+989121234567", "a|b"), ("+982188001122", None)]
    assert [(a.label, a.full_text, a.landmark, a.lat, a.lng) for a in row.addresses] == [
        ("", "Street; 1", None, None, None), ("Home", "Vali Asr|12\\3", "bank", 35.7, 51.41)]


def test_rows_whose_phones_the_database_has_are_already_imported_or_taken():
    rows = [item for item in read(HEADER + "Sara,09121234567,\nReza,09131234567;09141234567,\n"
                                           "Mina,09151234567;09161234567,\nNima,09171234567,\n"
                                           "Omid,09181234567,\n")
            if isinstance(item, ImportRow)]
    owners = {"+989121234567": PhoneOwner(7, "sara"), "+989131234567": PhoneOwner(8, "reza"),
              "+989141234567": PhoneOwner(8, "reza"), "+989161234567": PhoneOwner(9, "mina"),
              "+989181234567": PhoneOwner(10, "someoneelse")}
    judged = judge_taken_phones(rows, owners)
    assert [(r.line, r.code, r.reason) for r in judged] == [
        (2, RejectCode.ALREADY_IMPORTED, "already imported as subscriber 7"),
        (3, RejectCode.ALREADY_IMPORTED, "already imported as subscriber 8"),
        (4, RejectCode.PHONE_TAKEN, "phone +989161234567 already belongs to subscriber 9"),
        (6, RejectCode.PHONE_TAKEN, "phone +989181234567 already belongs to subscriber 10"),
    ]
