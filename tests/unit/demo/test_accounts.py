"""The demo's accounts: fresh passwords each seeding, operators at extensions, kept readable by the owner alone."""

import stat

from taxicrm.demo.accounts import DemoRecord, load_record, plan_accounts, record_path, save_record


def test_each_planned_account_gets_its_own_new_password_and_operators_get_extensions():
    first, second = plan_accounts(3), plan_accounts(3)
    assert [a.username for a in first] == ["demo-admin", "demo-supervisor", "operator1", "operator2", "operator3"]
    assert [a.extension for a in first] == [None, None, "201", "202", "203"]
    passwords = [a.password for a in first + second]
    assert len(set(passwords)) == len(passwords) and all(len(p) >= 12 and p.isalnum() for p in passwords)


def test_the_record_comes_back_as_kept_and_only_its_owner_may_read_it(tmp_path):
    path = record_path(tmp_path / "data")
    assert load_record(path) is None
    record = DemoRecord(seed=7, subscribers=200, drivers=8, accounts=plan_accounts(2))
    save_record(path, record)
    assert load_record(path) == record
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
