import pytest

from taxicrm.migrations import Migration, MigrationError, load_migrations, pending


def test_files_load_in_numeric_order(tmp_path):
    (tmp_path / "0002_second.sql").write_text("SELECT 2;")
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    assert [m.name for m in load_migrations(tmp_path)] == ["0001_first.sql", "0002_second.sql"]


@pytest.mark.parametrize("names", [["1_short.sql"], ["0001_Upper.sql"], ["0001_a.sql", "0001_b.sql"]])
def test_badly_named_or_doubled_files_are_refused(tmp_path, names):
    for name in names:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError):
        load_migrations(tmp_path)


def test_pending_skips_applied_ones():
    first, second = Migration(1, "0001_a.sql", "SELECT 1;"), Migration(2, "0002_b.sql", "SELECT 2;")
    assert pending([first, second], {1: (first.name, first.checksum)}) == [second]


def test_an_edited_applied_migration_is_refused():
    edited = Migration(1, "0001_a.sql", "SELECT 'changed';")
    with pytest.raises(MigrationError, match=r"0001_a\.sql was edited after it was applied"):
        pending([edited], {1: ("0001_a.sql", Migration(1, "0001_a.sql", "SELECT 1;").checksum)})


def test_a_database_ahead_of_the_code_is_refused():
    with pytest.raises(MigrationError, match="this code does not have"):
        pending([], {7: ("0007_future.sql", "abc")})
