"""The sandbox speaks CG's File API: endpoints, auth schemes, envelopes, codes, limits, validation, faults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from cgformat.limits import LimitProfile
from cgformat.sandbox import Fault, Sandbox, parse_fault

from ..uploader._helpers import API_KEY, HEADER, FakeClock

KEY = {"Authorization": f"api_key {API_KEY}"}
TX = "/v4.1/file/transactional.json"


def csv_file(n: int, *, bad: int = 0, tag: str = "a") -> bytes:
    rows = [HEADER]
    for i in range(1, n + 1):
        email = f"{tag}{i} example.com" if i <= bad else f"{tag}{i}@example.com"
        rows.append(f"{i:04d},{email},31612345678,Anna,de Vries,NL,2025-03-01 10:00:00")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


def post(http: httpx.Client, box: Sandbox, path: str, content: bytes, name: str = "a.csv",
         headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post(box.url + path, files={"file": (name, content, "text/csv")}, headers=headers or KEY)


def test_upload_statistics_delete_round_trip(sandbox: Sandbox, http: httpx.Client) -> None:
    r = post(http, sandbox, TX, csv_file(3, bad=1), "part-1.csv")
    assert r.status_code == 200
    assert r.json() == {"Data": True}
    rows = http.get(sandbox.url + TX, headers=KEY).json()["Data"]
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == "1001"
    assert row["source_filename"] == "part-1.csv"
    assert row["status"] == "Processed"
    assert (row["total_records"], row["successful_records"], row["unsuccessful_records"]) == ("3", "2", "1")
    assert row["logs"][0].startswith("Record 1: ")
    assert all(isinstance(v, str) for k, v in row.items() if k != "logs")  # CG sends strings
    assert http.delete(sandbox.url + "/v4.1/file.json", params={"id": 1001}, headers=KEY).json() == {"Data": True}
    assert http.get(sandbox.url + TX, headers=KEY).json() == {"Data": []}
    gone = http.delete(sandbox.url + "/v4.1/file.json", params={"id": 1001}, headers=KEY).json()
    assert gone == {"Error": {"Message": "File not found", "Code": 400200}}


def test_the_same_file_again_is_400103_until_deleted(sandbox: Sandbox, http: httpx.Client) -> None:
    data = csv_file(2)
    assert post(http, sandbox, TX, data).status_code == 200
    again = post(http, sandbox, TX, data, "renamed.csv")
    assert again.json()["Error"]["Code"] == 400103
    assert sandbox.received == ["a.csv"]
    http.delete(sandbox.url + "/v4.1/file.json", params={"id": 1001}, headers=KEY)
    assert post(http, sandbox, TX, data).status_code == 200


@pytest.mark.parametrize("record_type", ["transactional", "contact", "historical", "anonymous"])
def test_every_record_type_has_an_upload_endpoint(sandbox: Sandbox, http: httpx.Client, record_type: str) -> None:
    path = f"/v4.1/file/{record_type}.json"
    assert post(http, sandbox, path, b"Email\nx@y.co\n", "t.csv").status_code == 200
    assert [r["source_filename"] for r in http.get(sandbox.url + path, headers=KEY).json()["Data"]] == ["t.csv"]


def test_revenue_answers_its_own_envelope(sandbox: Sandbox, http: httpx.Client) -> None:
    data = (b"Account name,Revenue amount,Revenue start date,Revenue end date,Revenue type,Description\n"
            b"ACME,1000,2025-01-01 00:00:00,2025-12-31 00:00:00,recurring,x\n")
    r = post(http, sandbox, "/v4.1/company/revenue_file_automate.json", data, "rev.csv")
    assert r.json() == {"Data": {"data": 1}}


def test_auth_schemes(sandbox: Sandbox, http: httpx.Client, clock: FakeClock) -> None:
    bad = http.get(sandbox.url + TX, headers={"Authorization": "api_key nope"})
    assert bad.status_code == 401
    assert bad.json() == {"Error": {"Message": "Invalid API Key", "Code": 200000}}
    assert http.get(sandbox.url + TX).status_code == 401
    refused = http.post(sandbox.token_url, data={"grant_type": "client_credentials", "client_id": "client-1",
                                                 "client_secret": "wrong"})
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid_client"}
    token = http.post(sandbox.token_url, data={"grant_type": "client_credentials", "client_id": "client-1",
                                               "client_secret": "client-secret-1"}).json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert http.get(sandbox.url + TX, headers=bearer).status_code == 200
    clock.t += 3600  # the hour is over
    assert http.get(sandbox.url + TX, headers=bearer).status_code == 401


def test_xml_envelope(sandbox: Sandbox, http: httpx.Client) -> None:
    post(http, sandbox, TX, csv_file(1), "x.csv")
    ok = etree.fromstring(http.get(sandbox.url + "/v4.1/file/transactional.xml", headers=KEY).content)
    assert ok.tag == "Data"
    assert ok.findtext("item/source_filename") == "x.csv"
    err = etree.fromstring(http.delete(sandbox.url + "/v4.1/file.xml", params={"id": 9}, headers=KEY).content)
    assert (err.tag, err.findtext("Code"), err.findtext("Message")) == ("Error", "400200", "File not found")


@pytest.mark.parametrize(("params", "code"), [
    ({"id": "x"}, 300001), ({"date_range_from": "01/02/2026"}, 300002), ({"date_range_to": "2026-13-01"}, 300003),
    ({"limit": "1001"}, 300004), ({"start": "-1"}, 300004),
])
def test_statistics_parameters_are_checked(sandbox: Sandbox, http: httpx.Client, params: dict[str, str],
                                           code: int) -> None:
    r = http.get(sandbox.url + TX, params=params, headers=KEY)
    assert r.status_code == 400
    assert r.json()["Error"]["Code"] == code


def test_statistics_date_range_and_paging(sandbox: Sandbox, http: httpx.Client, clock: FakeClock) -> None:
    for i in range(5):
        post(http, sandbox, TX, csv_file(1, tag=f"t{i}"), f"f{i}.csv")
        clock.t += 86400
    get = lambda **p: [r["source_filename"] for r in http.get(sandbox.url + TX, params=p, headers=KEY).json()["Data"]]  # noqa: E731
    assert get(date_range_from="2026-01-02", date_range_to="2026-01-03") == ["f1.csv", "f2.csv"]
    assert get(start=1, limit=2) == ["f1.csv", "f2.csv"]
    assert get(id=1004) == ["f3.csv"]


def test_limits_are_answered_with_cg_style_errors(clock: FakeClock, http: httpx.Client) -> None:
    small = LimitProfile(name="api", max_records=2, max_bytes=400, interval_s=600)
    with Sandbox(api_keys={API_KEY}, profiles={"api": small}, interval_s=600, clock=clock) as box:
        too_many = post(http, box, TX, csv_file(3))
        assert too_many.json()["Error"]["Code"] == 400302
        too_big = post(http, box, TX, csv_file(2) + b"#" * 400)
        assert too_big.json()["Error"]["Code"] == 400301
        assert post(http, box, TX, csv_file(2)).status_code == 200
        soon = post(http, box, TX, csv_file(1, tag="z"), "b.csv")
        assert soon.status_code == 429
        assert soon.json()["Error"]["Code"] == 400429
        assert soon.headers["Retry-After"] == "600"
        clock.t += 600
        assert post(http, box, TX, csv_file(1, tag="z"), "b.csv").status_code == 200
        assert box.received == ["a.csv", "b.csv"]


def test_missing_file_field_and_unknown_endpoint(sandbox: Sandbox, http: httpx.Client) -> None:
    r = http.post(sandbox.url + TX, data={"other": "x"}, files={"nope": ("a.csv", b"x")}, headers=KEY)
    assert r.json()["Error"]["Code"] == 300000
    assert http.get(sandbox.url + "/v4.1/nothing.json", headers=KEY).status_code == 404


def test_data_dir_keeps_files_and_state_across_restarts(tmp_path: Path, http: httpx.Client) -> None:
    with Sandbox(data_dir=tmp_path / "sb", interval_s=0) as box:
        post(http, box, TX, csv_file(2), "kept.csv", headers={"Authorization": "api_key anything"})
    assert (tmp_path / "sb" / "files" / "1001-kept.csv").read_bytes() == csv_file(2)
    with Sandbox(data_dir=tmp_path / "sb", interval_s=0) as again:
        assert again.received == ["kept.csv"]
        assert post(http, again, TX, csv_file(2), "kept.csv",
                    headers={"Authorization": "api_key x"}).json()["Error"]["Code"] == 400103


def test_injected_faults(sandbox: Sandbox, http: httpx.Client) -> None:
    sandbox.fail_next(1, status=502)
    assert post(http, sandbox, TX, csv_file(1)).status_code == 502
    sandbox.throttle_next(1, retry_after=3)
    r = post(http, sandbox, TX, csv_file(1))
    assert (r.status_code, r.headers["Retry-After"]) == (429, "3")
    sandbox.drop_next(1)
    with pytest.raises(httpx.RemoteProtocolError):
        post(http, sandbox, TX, csv_file(1))
    assert sandbox.received == ["a.csv"]  # stored before the connection was dropped
    sandbox.timeout_next(1, seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        http.post(sandbox.url + TX, files={"file": ("b.csv", csv_file(1, tag="b"))}, headers=KEY, timeout=0.1)
    assert sandbox.received == ["a.csv"]  # held, then dropped unprocessed
    sandbox.inject(Fault(kind="status", status=500), at=[sandbox.upload_requests + 2])
    assert post(http, sandbox, TX, csv_file(1, tag="c"), "c.csv").status_code == 200
    assert post(http, sandbox, TX, csv_file(1, tag="d"), "d.csv").status_code == 500


@pytest.mark.parametrize(("spec", "fault", "at"), [
    ("503@3", Fault(kind="status", status=503), [3]),
    ("429:2@5,6", Fault(kind="throttle", retry_after=2), [5, 6]),
    ("timeout:3@8", Fault(kind="timeout", seconds=3), [8]),
    ("late:1.5@9", Fault(kind="late", seconds=1.5), [9]),
    ("drop@12", Fault(kind="drop"), [12]),
])
def test_parse_fault(spec: str, fault: Fault, at: list[int]) -> None:
    assert parse_fault(spec) == (fault, at)


def test_parse_fault_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        parse_fault("explode@1")
    with pytest.raises(ValueError):
        parse_fault("503")
