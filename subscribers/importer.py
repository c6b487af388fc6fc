"""The subscriber CSV layout: reading and checking import rows, writing export rows."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from subscribers.errors import InvalidPhone
from subscribers.phones import PhonePlan, parse_phone
from subscribers.text import clean_text, search_key, to_ascii_digits
from taxicrm.errors import InvalidInput

# The layout, documented for people in subscribers/openapi_transfer.json and `taxicrm import-subscribers --help`.
COLUMNS = ("name", "phones", "addresses")
REQUIRED_COLUMNS = ("name", "phones")
ENTRY_SEPARATOR = ";"  # Between the phones of a row, and between its addresses.
PART_SEPARATOR = "|"  # Between the parts of one entry: number|label, label|full text|landmark|lat|lng.
ESCAPE = "\\"  # `\;`, `\|` and `\\` stand for themselves inside an entry.

# The database's CHECK limits, so a row the rules accept is a row the tables accept.
MAX_NAME = 200
MAX_PHONE_LABEL = 50
MAX_ADDRESS_LABEL = 50
MAX_ADDRESS_TEXT = 500
MAX_LANDMARK = 300
MAX_PHONES = 10
MAX_ADDRESSES = 20

_UNDECODABLE = re.compile("[\udc80-\udcff]")  # What surrogateescape makes of bytes that are not UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # PostgreSQL text cannot hold NUL; the rest is junk.
_ESCAPED = re.compile(r"\\([\\;|])")
_BOM = "\ufeff"


class RejectCode(StrEnum):
    """Why a row was not imported; stable, for programs and for the report file."""

    BAD_ENCODING = "bad_encoding"
    MALFORMED = "malformed_row"
    BAD_TEXT = "bad_text"
    MISSING_NAME = "missing_name"
    NO_PHONE = "no_phone"
    BAD_PHONE = "bad_phone"
    BAD_ADDRESS = "bad_address"
    OVERSIZE = "oversize"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    PHONE_TAKEN = "phone_taken"
    ALREADY_IMPORTED = "already_imported"


class InvalidImportFile(InvalidInput):
    """The file as a whole cannot be imported (no header, wrong encoding, no phones column): nothing changes."""

    code = "invalid_import_file"


@dataclass(frozen=True)
class SourceRow:
    """A row's fields as the file had them, for the rejected-rows report."""

    name: str
    phones: str
    addresses: str


@dataclass(frozen=True)
class ImportPhone:
    """A checked phone of an import row, shaped like a subscriber_phones row."""

    e164: str
    raw: str
    national: str
    kind: str
    label: str | None


@dataclass(frozen=True)
class ImportAddress:
    """A checked address of an import row, shaped like a subscriber_addresses row."""

    label: str
    full_text: str
    text_key: str
    landmark: str | None
    lat: float | None
    lng: float | None


@dataclass(frozen=True)
class ImportRow:
    """A row that passed every check the file alone allows; the database may still find its phones taken."""

    line: int
    name: str
    name_key: str
    phones: tuple[ImportPhone, ...]
    addresses: tuple[ImportAddress, ...]
    source: SourceRow


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported, with the line it starts on and a reason a person can act on."""

    line: int
    code: RejectCode
    reason: str
    source: SourceRow


class _Rejected(Exception):
    """Raised inside row parsing; becomes a Rejection with the row's line and source."""

    def __init__(self, code: RejectCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Header:
    """Where each known column is in the file, and the columns the import ignores."""

    positions: Mapping[str, int]
    ignored: tuple[str, ...]
    width: int


class ImportFile:
    """The rows of an import file, read lazily from its lines (bytes), checked one by one.

    The header is read at once: a file without a usable one raises InvalidImportFile before any row.
    Phones are remembered across the file, so a number on two lines is rejected the second time.
    """

    def __init__(self, lines: Iterable[bytes], plan: PhonePlan) -> None:
        """Read the header of `lines` (raw bytes, newlines included); raise InvalidImportFile if it is unusable."""
        self._plan = plan
        self._lines = iter(lines)
        self._reader = csv.reader(self._decoded(), strict=False)
        self._seen: dict[str, int] = {}  # e164 -> the line that first had it.
        self.header = read_header(self._reader)

    def _decoded(self) -> Iterator[str]:
        first = next(self._lines, b"")
        if not first:
            return
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InvalidImportFile("The file is UTF-16 text; save it as “CSV UTF-8” and import it again.")
        text = first.decode("utf-8", "surrogateescape")
        yield text.removeprefix(_BOM)
        for line in self._lines:
            yield line.decode("utf-8", "surrogateescape")

    def __iter__(self) -> Iterator[ImportRow | Rejection]:
        """Yield each data row as an ImportRow or a Rejection, in file order; blank lines are skipped."""
        while True:
            start = self._reader.line_num + 1
            try:
                fields = next(self._reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield Rejection(start, RejectCode.MALFORMED, f"the CSV is malformed here ({err})",
                                SourceRow("", "", ""))
                continue
            if not fields or fields == [""]:
                continue
            yield self._check(start, fields)

    def _check(self, line: int, fields: list[str]) -> ImportRow | Rejection:
        source = _source(self.header, fields)
        try:
            if len(fields) > self.header.width and any(field.strip() for field in fields[self.header.width:]):
                raise _Rejected(RejectCode.MALFORMED, f"the row has {len(fields)} fields but the header has "
                                f"{self.header.width}; put fields that contain commas in double quotes")
            if any(_UNDECODABLE.search(field) for field in fields):
                raise _Rejected(RejectCode.BAD_ENCODING, "the row is not valid UTF-8 text; save the file as "
                                "“CSV UTF-8”")
            if any(_CONTROL.search(field) for field in fields):
                raise _Rejected(RejectCode.BAD_TEXT, "the row contains control characters")
            row = parse_row(line, source, self._plan)
            self._claim_phones(row)
        except _Rejected as rejected:
            return Rejection(line, rejected.code, rejected.reason, _printable(source))
        return row

    def _claim_phones(self, row: ImportRow) -> None:
        for phone in row.phones:
            if phone.e164 in self._seen:
                raise _Rejected(RejectCode.DUPLICATE_IN_FILE,
                                f"phone {phone.e164} is also on line {self._seen[phone.e164]}")
        for phone in row.phones:
            self._seen[phone.e164] = row.line


def read_header(reader: Iterator[list[str]]) -> Header:
    """Find the columns in the header row; raise InvalidImportFile if a required one is missing."""
    try:
        names = next(reader)
    except StopIteration:
        raise InvalidImportFile("The file is empty; its first line must be the header: "
                                f"{','.join(COLUMNS)}.") from None
    except csv.Error as err:
        raise InvalidImportFile(f"The header line is not valid CSV ({err}).") from None
    if any(_UNDECODABLE.search(name) for name in names):
        raise InvalidImportFile("The file is not UTF-8 text; save it as “CSV UTF-8” and import it again.")
    keys = [name.strip().casefold() for name in names]
    missing = [column for column in REQUIRED_COLUMNS if column not in keys]
    if missing:
        raise InvalidImportFile(f"The header has no column {', '.join(repr(m) for m in missing)}; the first line "
                                f"must name the columns {','.join(COLUMNS)} (addresses is optional).")
    positions = {column: keys.index(column) for column in COLUMNS if column in keys}
    ignored = tuple(name for key, name in zip(keys, names, strict=True) if key not in positions)
    return Header(positions=positions, ignored=ignored, width=len(names))


def _source(header: Header, fields: list[str]) -> SourceRow:
    def field(column: str) -> str:
        position = header.positions.get(column)
        return fields[position] if position is not None and position < len(fields) else ""

    return SourceRow(name=field("name"), phones=field("phones"), addresses=field("addresses"))


def _printable(source: SourceRow) -> SourceRow:
    """Replace bytes that were not UTF-8 with U+FFFD, so the report itself is valid text."""
    def fix(text: str) -> str:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    return SourceRow(fix(source.name), fix(source.phones), fix(source.addresses))


def parse_row(line: int, source: SourceRow, plan: PhonePlan) -> ImportRow:
    """Check one row's fields; raise _Rejected with the first problem found."""
    name = clean_text(source.name)
    if not name:
        raise _Rejected(RejectCode.MISSING_NAME, "the name is empty")
    if len(name) > MAX_NAME:
        raise _Rejected(RejectCode.OVERSIZE, f"the name is longer than {MAX_NAME} characters")
    return ImportRow(line=line, name=name, name_key=search_key(name), phones=parse_phones(source.phones, plan),
                     addresses=parse_addresses(source.addresses), source=source)


def parse_phones(field: str, plan: PhonePlan) -> tuple[ImportPhone, ...]:
    """Parse `number|label; number|label...`; the same number twice in one row counts once."""
    entries = _entries(field)
    if not entries:
        raise _Rejected(RejectCode.NO_PHONE, "the row has no phone number")
    if len(entries) > MAX_PHONES:
        raise _Rejected(RejectCode.OVERSIZE, f"the row has more than {MAX_PHONES} phone numbers")
    phones: dict[str, ImportPhone] = {}
    for entry in entries:
        parts = [_unescape(part) for part in _parts(entry)]
        if len(parts) > 2:
            raise _Rejected(RejectCode.BAD_PHONE, f"phone '{entry}' has more than one '|' (write number|label)")
        raw = parts[0].strip()
        label = clean_text(parts[1]) if len(parts) == 2 else ""
        if len(label) > MAX_PHONE_LABEL:
            raise _Rejected(RejectCode.OVERSIZE, f"the label of phone '{raw}' is longer than {MAX_PHONE_LABEL} "
                            "characters")
        try:
            phone = parse_phone(raw, plan)
        except InvalidPhone as err:
            raise _Rejected(RejectCode.BAD_PHONE, f"phone '{raw[:40]}': {err.reason}") from None
        phones.setdefault(phone.e164, ImportPhone(e164=phone.e164, raw=raw, national=phone.national_digits,
                                                  kind=str(phone.kind), label=label or None))
    return tuple(phones.values())


def parse_addresses(field: str) -> tuple[ImportAddress, ...]:
    """Parse `label|full text|landmark|lat|lng; ...`; an entry of one part is the full text alone."""
    entries = _entries(field)
    if len(entries) > MAX_ADDRESSES:
        raise _Rejected(RejectCode.OVERSIZE, f"the row has more than {MAX_ADDRESSES} addresses")
    return tuple(_address(number, entry) for number, entry in enumerate(entries, start=1))


def _address(number: int, entry: str) -> ImportAddress:
    parts = [_unescape(part) for part in _parts(entry)]
    if len(parts) > 5:
        raise _Rejected(RejectCode.BAD_ADDRESS, f"address {number} has more than 5 parts "
                        "(write label|full text|landmark|lat|lng)")
    if len(parts) == 1:
        parts.insert(0, "")
    label, full_text, landmark, lat, lng = (clean_text(part) for part in [*parts, "", "", ""][:5])
    if not full_text:
        raise _Rejected(RejectCode.BAD_ADDRESS, f"address {number} has no text")
    for value, limit, what in ((label, MAX_ADDRESS_LABEL, "label"), (full_text, MAX_ADDRESS_TEXT, "text"),
                               (landmark, MAX_LANDMARK, "landmark")):
        if len(value) > limit:
            raise _Rejected(RejectCode.OVERSIZE, f"the {what} of address {number} is longer than {limit} characters")
    latitude, longitude = _coordinates(number, lat, lng)
    return ImportAddress(label=label, full_text=full_text, text_key=search_key(full_text), landmark=landmark or None,
                         lat=latitude, lng=longitude)


def _coordinates(number: int, lat: str, lng: str) -> tuple[float | None, float | None]:
    if not lat and not lng:
        return None, None
    if not (lat and lng):
        raise _Rejected(RejectCode.BAD_ADDRESS, f"address {number} has only one of lat and lng")
    try:
        # The Persian decimal separator (٫) is what a Persian keyboard types for a point.
        latitude, longitude = (float(to_ascii_digits(value).replace("٫", ".")) for value in (lat, lng))
    except ValueError:
        raise _Rejected(RejectCode.BAD_ADDRESS, f"address {number} has a lat or lng that is not a number") from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)
            and -90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _Rejected(RejectCode.BAD_ADDRESS, f"address {number} has a lat or lng out of range")
    return latitude, longitude


def _entries(field: str) -> list[str]:
    return [entry for entry in _split(field, ENTRY_SEPARATOR) if entry.strip()]


def _parts(entry: str) -> list[str]:
    return _split(entry, PART_SEPARATOR)


def _split(text: str, separator: str) -> list[str]:
    """Split on separators that are not escaped, keeping escapes for the next split to honour."""
    if ESCAPE not in text:
        return text.split(separator)
    pieces, current, chars = [], [], iter(text)
    for char in chars:
        if char == ESCAPE:
            current.append(char + next(chars, ""))
        elif char == separator:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _unescape(part: str) -> str:
    return _ESCAPED.sub(r"\1", part) if ESCAPE in part else part


@dataclass(frozen=True)
class PhoneOwner:
    """The subscriber a number already belongs to in the database."""

    subscriber_id: int
    name_key: str


def judge_taken_phones(rows: Sequence[ImportRow], owners: Mapping[str, PhoneOwner]) -> list[Rejection]:
    """Reject rows whose phones the database already has (`owners`: e164 -> its subscriber).

    A row whose every phone belongs to one subscriber of the same name is that subscriber imported before:
    re-running a file must not import it twice. Any other overlap is a number that belongs to someone else.
    """
    rejections = []
    for row in rows:
        taken = [owners[phone.e164] for phone in row.phones if phone.e164 in owners]
        if not taken:
            continue
        first = taken[0]
        if len(taken) == len(row.phones) and set(taken) == {first} and first.name_key == row.name_key:
            rejections.append(Rejection(row.line, RejectCode.ALREADY_IMPORTED,
                                        f"already imported as subscriber {first.subscriber_id}", row.source))
        else:
            e164 = next(phone.e164 for phone in row.phones if phone.e164 in owners)
            rejections.append(Rejection(row.line, RejectCode.PHONE_TAKEN,
                                        f"phone {e164} already belongs to subscriber {first.subscriber_id}",
                                        row.source))
    return rejections


# Export: the same layout, so an exported file imports back unchanged.

def format_row(name: str, phones: Iterable[tuple[str, str | None]],
               addresses: Iterable[tuple[str, str, str | None, float | None, float | None]]) -> list[str]:
    """Return the CSV fields of one subscriber: name, `e164|label;...`, `label|text|landmark|lat|lng;...`."""
    phone_field = ENTRY_SEPARATOR.join(_join_parts([e164, label or ""]) for e164, label in phones)
    address_field = ENTRY_SEPARATOR.join(
        _join_parts([label, text, landmark or "", "" if lat is None else repr(lat), "" if lng is None else repr(lng)])
        for label, text, landmark, lat, lng in addresses
    )
    return [name, phone_field, address_field]


def _join_parts(parts: list[str]) -> str:
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    if len(parts) == 2 and not parts[0]:
        parts.pop(0)  # An address with text alone is written as its text alone.
    return PART_SEPARATOR.join(_escape(part) for part in parts)


def _escape(part: str) -> str:
    if not any(char in part for char in (ESCAPE, ENTRY_SEPARATOR, PART_SEPARATOR)):
        return part
    return part.replace(ESCAPE, ESCAPE * 2).replace(ENTRY_SEPARATOR, ESCAPE + ENTRY_SEPARATOR).replace(
        PART_SEPARATOR, ESCAPE + PART_SEPARATOR)
