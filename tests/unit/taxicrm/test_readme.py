from pathlib import Path

from taxicrm.settings import settings_table


def test_the_readme_documents_every_setting_as_the_code_defines_it():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert settings_table() in readme
