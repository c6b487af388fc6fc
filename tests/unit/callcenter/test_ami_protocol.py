import pytest

from callcenter.ami_protocol import AmiParser, encode_action

BANNER = b"Asterisk Call Manager/7.0.3\r\n"
LOGIN_REPLY = b"Response: Success\r\nActionID: taxicrm-1\r\nMessage: Authentication accepted\r\n\r\n"
NEWCHANNEL = (
    "Event: Newchannel\r\n"
    "Privilege: call,all\r\n"
    "Channel: PJSIP/mci-trunk-00000010\r\n"
    "ChannelState: 4\r\n"
    "ChannelStateDesc: Ring\r\n"
    "CallerIDNum: 09121234567\r\n"
    "CallerIDName: علی رضایی\r\n"
    "Context: from-trunk\r\n"
    "Exten: 02188001234\r\n"
    "Uniqueid: 1709281800.16\r\n"
    "Linkedid: 1709281800.16\r\n"
    "\r\n"
).encode()
STREAM = BANNER + LOGIN_REPLY + NEWCHANNEL


def feed_all(parser: AmiParser, chunks: list[bytes]) -> list[dict[str, str]]:
    return [packet for chunk in chunks for packet in parser.feed(chunk)]


def test_the_banner_is_read_and_packets_follow_it():
    parser = AmiParser()
    packets = parser.feed(STREAM)
    assert parser.banner == "Asterisk Call Manager/7.0.3"
    assert packets[0] == {"Response": "Success", "ActionID": "taxicrm-1", "Message": "Authentication accepted"}
    assert packets[1]["Event"] == "Newchannel"
    assert packets[1]["CallerIDName"] == "علی رضایی"
    assert parser.malformed_lines == 0


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13, 64])
def test_packets_split_at_any_byte_come_out_whole(size):
    # Split in the middle of \r\n pairs and of multi-byte Persian letters too.
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    parser = AmiParser()
    assert feed_all(parser, chunks) == AmiParser().feed(STREAM)
    assert parser.banner == "Asterisk Call Manager/7.0.3"


def test_bare_newlines_and_values_holding_colons_are_read():
    packet = b"Event: UserEvent\nUserEvent: note\nBody: pickup: Vanak Sq. 10:30\n\n"
    assert AmiParser().feed(packet) == [{"Event": "UserEvent", "UserEvent": "note", "Body": "pickup: Vanak Sq. 10:30"}]


def test_an_empty_value_is_kept():
    assert AmiParser().feed(b"Event: Newchannel\r\nAccountCode:\r\n\r\n") == [
        {"Event": "Newchannel", "AccountCode": ""}
    ]


def test_invalid_utf8_is_replaced_not_fatal():
    [packet] = AmiParser().feed(b"Event: Newchannel\r\nCallerIDName: \xd8\xb9\xff\xfe\r\n\r\n")
    assert packet["CallerIDName"] == "ع\ufffd\ufffd"


def test_lines_without_a_colon_are_skipped_and_counted():
    parser = AmiParser()
    packets = parser.feed(b"Event: Hangup\r\nthis is not ami\r\n: no key\r\nCause: 16\r\n\r\n")
    assert packets == [{"Event": "Hangup", "Cause": "16"}]
    assert parser.malformed_lines == 2


def test_blank_lines_between_packets_make_no_empty_packets():
    assert AmiParser().feed(b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n") == [{"Event": "A"}, {"Event": "B"}]


def test_an_oversize_packet_is_dropped_and_the_next_one_is_read():
    parser = AmiParser(max_packet_bytes=1024)
    huge = b"".join(b"Field%d: %s\r\n" % (n, b"x" * 50) for n in range(100))
    packets = parser.feed(b"Event: Huge\r\n" + huge + b"\r\nEvent: Small\r\n\r\n")
    assert packets == [{"Event": "Small"}]
    assert parser.dropped_packets == 1


def test_an_endless_line_is_dropped_without_holding_it_in_memory():
    parser = AmiParser(max_packet_bytes=1024)
    for _ in range(100):
        assert parser.feed(b"\x00garbage" * 100) == []
        assert len(parser._buffer) <= 1024
    assert parser.feed(b"\r\n\r\nEvent: After\r\n\r\n") == [{"Event": "After"}]
    assert parser.dropped_packets == 1


def test_actions_are_encoded_with_their_action_id():
    encoded = encode_action("Login", action_id="taxicrm-1", Username="crm", Secret="s3cr:t", Events="call,agent")
    assert encoded == (
        b"Action: Login\r\nActionID: taxicrm-1\r\nUsername: crm\r\nSecret: s3cr:t\r\nEvents: call,agent\r\n\r\n"
    )
    assert AmiParser().feed(encoded)[0]["Secret"] == "s3cr:t"


@pytest.mark.parametrize("value", ["pw\r\nAction: Logoff", "pw\n"])
def test_a_value_with_a_line_break_is_refused(value):
    with pytest.raises(ValueError, match="Secret") as info:
        encode_action("Login", action_id="1", Secret=value)
    assert "pw" not in str(info.value)
