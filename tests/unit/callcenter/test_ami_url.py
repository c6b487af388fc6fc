import pytest

from callcenter.ami_client import AmiTarget, parse_ami_url


def test_a_full_ami_url_is_read():
    assert parse_ami_url("ami://crm:s3cret@pbx.local:5039") == AmiTarget("pbx.local", 5039, "crm", "s3cret")


def test_the_port_defaults_to_5038_and_escapes_are_decoded():
    target = parse_ami_url("ami://crm%40center:p%3Aw%2Fd@10.0.0.5")
    assert (target.host, target.port, target.username, target.secret) == ("10.0.0.5", 5038, "crm@center", "p:w/d")


def test_the_secret_stays_out_of_the_repr():
    assert "s3cret" not in repr(parse_ami_url("ami://crm:s3cret@pbx.local"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://crm:s3cret@pbx.local:5038", "ami://"),
        ("ami://pbx.local:5038", "username and a secret"),
        ("ami://crm@pbx.local:5038", "username and a secret"),
        ("ami://crm:s3cret@:5038", "no host"),
        ("ami://crm:s3cret@pbx.local:notaport", "valid port"),
        ("ami://crm:s3cret@pbx.local:99999", "valid port"),
        ("ami://crm:s3%0D%0Acret@pbx.local", "line breaks"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(url, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_ami_url(url)
    assert "s3" not in str(info.value)
