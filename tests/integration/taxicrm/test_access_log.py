import json
import time
import urllib.request


def json_lines(text):
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return lines


def test_access_log_can_be_json_lines(start_service):
    service = start_service(TAXICRM_LOG_FORMAT="json")
    with urllib.request.urlopen(service.url + "/healthz?probe=1", timeout=5) as response:
        assert response.status == 200
    time.sleep(0.3)  # Let the access log line reach the file.
    service.stop()
    entries = json_lines(service.log())
    access = [e for e in entries if e["logger"] == "taxicrm.access" and e.get("path") == "/healthz"]
    assert access, entries
    assert access[0]["status"] == 200 and access[0]["method"] == "GET" and access[0]["duration_ms"] >= 0
    assert "probe=1" not in json.dumps(access[0])  # Query strings (which may carry tokens) are not logged.


def test_access_log_can_be_switched_off(start_service):
    service = start_service(TAXICRM_ACCESS_LOG="false")
    urllib.request.urlopen(service.url + "/healthz", timeout=5).close()
    service.stop()
    assert "/healthz" not in service.log()
