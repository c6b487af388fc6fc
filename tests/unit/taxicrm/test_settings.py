from dataclasses import fields

import pytest

from taxicrm.settings import SETTINGS, Settings, SettingsError, load_settings, settings_table


def test_defaults_need_no_environment():
    settings = load_settings({})
    assert settings.database_url is None and settings.redis_url is None
    assert settings.port == 8080 and settings.host == "127.0.0.1"
    assert settings.access_log is True and settings.log_format == "text"


def test_every_setting_maps_to_one_field_and_is_documented():
    assert sorted(s.field for s in SETTINGS) == sorted(f.name for f in fields(Settings))
    table = settings_table()
    assert all(f"`{s.env}`" in table for s in SETTINGS)


@pytest.mark.parametrize(
    ("env", "value", "words"),
    [
        ("TAXICRM_PORT", "eighty", "whole number"),
        ("TAXICRM_PORT", "70000", "port number"),
        ("TAXICRM_ACCESS_LOG", "maybe", "true or false"),
        ("TAXICRM_LOG_FORMAT", "xml", "one of text, json"),
        ("DATABASE_URL", "mysql://localhost/x", "postgresql://"),
        ("REDIS_URL", "http://localhost", "redis://"),
        ("TAXICRM_ADMIN_PASSWORD", "short", "at least 10"),
        ("TAXICRM_WS_QUEUE_SIZE", "0", "at least 1"),
        ("TAXICRM_ROAD_FACTOR", "0.5", "between 1 and 3"),
        ("TAXICRM_ROAD_FACTOR", "fast", "a number"),
        ("TAXICRM_SERVICE_AREA", "35,51,34,52", "south < north"),
        ("TAXICRM_SERVICE_AREA", "35,51", "four numbers"),
    ],
)
def test_bad_value_names_the_setting_and_the_problem(env, value, words):
    with pytest.raises(SettingsError) as caught:
        load_settings({env: value})
    message = str(caught.value)
    assert message.startswith(f"{env}: ") and words in message and "\n" not in message


def test_values_are_parsed():
    settings = load_settings({"TAXICRM_PORT": " 9000 ", "TAXICRM_COOKIE_SECURE": "yes",
                              "DATABASE_URL": "postgresql://u@db/taxi", "REDIS_URL": "unix:///tmp/r.sock"})
    assert settings.port == 9000 and settings.cookie_secure is True
    assert settings.database_url == "postgresql://u@db/taxi" and settings.redis_url == "unix:///tmp/r.sock"
