"""The File API client against httpx.MockTransport: auth schemes, envelopes, fault classification."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from cgformat.errors import ApiError, UsageError
from cgformat.uploader.client import (
    CgClient,
    Credentials,
    RetryableError,
    parse_answer,
    resolve_auth_url,
    resolve_base_url,
)

from ._helpers import FakeClock

BASE = "https://api.eu.customergauge.com"
UPLOAD = "/v4.1/file/transactional.json"


def client_for(handler: Callable[[httpx.Request], httpx.Response], *, creds: Credentials | None = None,
               clock: FakeClock | None = None, fmt: str = "json") -> CgClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return CgClient(http, base_url=BASE, credentials=creds or Credentials(api_key="K-123"),
                    clock=clock or FakeClock(), response_format=fmt)


def ok(data: object = True, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"Data": data})


def err(code: int, message: str, status: int = 400, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"Error": {"Message": message, "Code": code}}, headers=headers)


# ------------------------------------------------------------------------------------------ endpoints
def test_regions_and_base_url() -> None:
    assert resolve_base_url(region="us") == "https://api.us.customergauge.com"
    assert resolve_auth_url(region="au") == "https://auth.au.customergauge.com/oauth2/token"
    assert resolve_base_url(base_url="http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    assert resolve_auth_url(base_url="http://127.0.0.1:8765") == "http://127.0.0.1:8765/oauth2/token"
    with pytest.raises(UsageError):
        resolve_base_url()
    with pytest.raises(UsageError):
        resolve_base_url(region="mars")
    with pytest.raises(UsageError):  # keys never travel over plain http to another machine
        resolve_base_url(base_url="http://cg.example.com")


def test_upload_sends_multipart_file_with_api_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok()

    answer = client_for(handler).upload(UPLOAD, filename="p-0001.csv", content=b"Email\na@b.co\n")
    assert answer.data is True
    assert not answer.failed
    req = seen[0]
    assert req.method == "POST"
    assert str(req.url) == BASE + UPLOAD
    assert req.headers["Authorization"] == "api_key K-123"
    body = req.read()
    assert b'name="file"; filename="p-0001.csv"' in body
    assert b"Content-Type: text/csv" in body
    assert b"Email\na@b.co\n" in body


def test_xml_answers_use_the_xml_suffix_and_envelope() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v4.1/file/transactional.xml"
        if request.method == "GET":
            return httpx.Response(200, content=b"<?xml version='1.0'?><Data><item><id>7</id>"
                                                b"<source_filename>a.csv</source_filename><logs><item>Record 2: x"
                                                b"</item></logs></item></Data>")
        return httpx.Response(400, content=b"<Error><Message>This upload has already been processed</Message>"
                                           b"<Code>400103</Code></Error>")

    client = client_for(handler, fmt="xml")
    rows = client.statistics(UPLOAD)
    assert rows == [{"id": "7", "source_filename": "a.csv", "logs": ["Record 2: x"]}]
    with pytest.raises(ApiError) as info:
        client.upload(UPLOAD, filename="a.csv", content=b"x")
    assert info.value.code == 400103


def test_http_200_with_error_envelope_is_a_failure() -> None:
    client = client_for(lambda r: err(400010, "Required field empty", status=200))
    with pytest.raises(ApiError) as info:
        client.upload(UPLOAD, filename="a.csv", content=b"x")
    assert (info.value.code, info.value.status) == (400010, 200)


@pytest.mark.parametrize("body", [b"", b"<html>gateway</html>", b"{\"ok\": 1}", b"not json"])
def test_http_200_without_envelope_is_no_proof_and_leaves_the_part_in_doubt(body: bytes) -> None:
    client = client_for(lambda r: httpx.Response(200, content=body))
    with pytest.raises(RetryableError) as info:
        client.upload(UPLOAD, filename="a.csv", content=b"x")
    assert info.value.ambiguous is True
    assert info.value.status == 200


@pytest.mark.parametrize("response", [
    httpx.Response(302, headers={"Location": "https://elsewhere.example/"}, json={"Data": True}),
    httpx.Response(301, json={"Data": True}),
    httpx.Response(204),
    httpx.Response(201, json={"Data": True}),
    httpx.Response(202, json={"Data": True}),
])
def test_redirects_204_and_other_2xx_are_never_delivered(response: httpx.Response) -> None:
    with pytest.raises(RetryableError) as info:
        client_for(lambda r: response).upload(UPLOAD, filename="a.csv", content=b"x")
    assert info.value.ambiguous is True
    assert info.value.status == response.status_code


def test_revenue_data_false_is_a_failure() -> None:
    client = client_for(lambda r: ok(False))
    with pytest.raises(ApiError):
        client.upload("/v4.1/company/revenue_file_automate.json", filename="r.csv", content=b"x")
    assert client_for(lambda r: ok({"data": 1})).upload("/v4.1/company/revenue_file_automate.json",
                                                        filename="r.csv", content=b"x").data == {"data": 1}


# ------------------------------------------------------------------------------------------ faults
@pytest.mark.parametrize(("response", "ambiguous", "retry_after"), [
    (httpx.Response(503), True, None),
    (httpx.Response(500, json={"Error": {"Message": "boom", "Code": 500000}}), True, None),
    (err(400429, "slow down", status=429, headers={"Retry-After": "7"}), False, 7.0),
])
def test_5xx_and_429_are_retryable(response: httpx.Response, ambiguous: bool, retry_after: float | None) -> None:
    with pytest.raises(RetryableError) as info:
        client_for(lambda r: response).upload(UPLOAD, filename="a.csv", content=b"x")
    assert info.value.ambiguous is ambiguous
    assert info.value.retry_after == retry_after
    assert info.value.status == response.status_code


@pytest.mark.parametrize(("exc", "ambiguous"), [
    (httpx.ConnectError("refused"), False),
    (httpx.ConnectTimeout("slow connect"), False),
    (httpx.ReadTimeout("no answer"), True),
    (httpx.RemoteProtocolError("Server disconnected"), True),
])
def test_transport_errors_are_retryable(exc: Exception, ambiguous: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(RetryableError) as info:
        client_for(handler).upload(UPLOAD, filename="a.csv", content=b"x")
    assert info.value.ambiguous is ambiguous


def test_other_4xx_is_an_api_error_with_cgs_code() -> None:
    with pytest.raises(ApiError) as info:
        client_for(lambda r: err(200000, "Invalid API Key", status=401)).upload(UPLOAD, filename="a", content=b"")
    assert (info.value.code, info.value.status, info.value.api_message) == (200000, 401, "Invalid API Key")


def test_parse_answer_reads_retry_after_dates() -> None:
    answer = parse_answer(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert answer.retry_after == 0.0  # in the past


# ------------------------------------------------------------------------------------------ OAuth2
def test_oauth2_token_is_cached_and_renewed_before_its_hour_runs_out() -> None:
    clock = FakeClock()
    tokens: list[str] = []
    auths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            form = dict(x.split("=") for x in request.read().decode().split("&"))
            assert form == {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csec"}
            tokens.append(f"tok{len(tokens) + 1}")
            return httpx.Response(200, json={"access_token": tokens[-1], "token_type": "Bearer", "expires_in": 3600})
        auths.append(request.headers["Authorization"])
        return ok([])

    client = client_for(handler, creds=Credentials(client_id="cid", client_secret="csec"), clock=clock)
    assert client.auth_url == BASE + "/oauth2/token"
    client.statistics(UPLOAD)
    clock.t += 3000          # 50 minutes: still the same token
    client.statistics(UPLOAD)
    clock.t += 350           # 55 min 50 s: within the 5-minute margin, renewed
    client.statistics(UPLOAD)
    assert auths == ["Bearer tok1", "Bearer tok1", "Bearer tok2"]


def test_oauth2_token_refetched_once_on_401() -> None:
    calls = {"token": 0, "api": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            calls["token"] += 1
            return httpx.Response(200, json={"access_token": f"t{calls['token']}", "expires_in": 3600})
        calls["api"] += 1
        if request.headers["Authorization"] == "Bearer t1":
            return err(200000, "Invalid token", status=401)
        return ok([])

    client = client_for(handler, creds=Credentials(client_id="cid", client_secret="csec"))
    assert client.statistics(UPLOAD) == []
    assert calls == {"token": 2, "api": 2}


def test_oauth2_refusal_names_the_variables_not_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client csec-VERY-SECRET"})

    client = client_for(handler, creds=Credentials(client_id="cid", client_secret="csec-VERY-SECRET"))
    with pytest.raises(ApiError) as info:
        client.statistics(UPLOAD)
    assert "csec-VERY-SECRET" not in str(info.value)
    assert "CG_CLIENT_SECRET" in str(info.value)


# ------------------------------------------------------------------------------------------ statistics, delete
def test_statistics_passes_cgs_parameters() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return ok([{"id": "9", "source_filename": "a.csv"}])

    rows = client_for(handler).statistics(UPLOAD, upload_id=9, date_from="2026-01-01", date_to="2026-01-02",
                                          start=1000, limit=1000)
    assert rows == [{"id": "9", "source_filename": "a.csv"}]
    assert dict(seen[0].params) == {"id": "9", "date_range_from": "2026-01-01", "date_range_to": "2026-01-02",
                                    "start": "1000", "limit": "1000"}


def test_delete_and_unknown_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "DELETE"
        assert request.url.path == "/v4.1/file.json"
        if request.url.params["id"] == "5":
            return ok(True)
        return err(400200, "File not found")

    client = client_for(handler)
    assert client.delete(5).data is True
    with pytest.raises(ApiError) as info:
        client.delete(6)
    assert info.value.code == 400200


# ------------------------------------------------------------------------------------------ secrets
def test_credentials_from_env_and_never_in_a_repr() -> None:
    creds = Credentials.from_env({"CG_API_KEY": "K-secret-1"})
    assert creds.scheme == "api_key"
    assert "K-secret-1" not in repr(creds)
    assert "K-secret-1" not in str(creds)
    oauth = Credentials.from_env({"CG_CLIENT_ID": "id-secret-2", "CG_CLIENT_SECRET": "sec-secret-3"})
    assert oauth.scheme == "oauth2"
    assert "secret" not in repr(oauth)
    client = CgClient(httpx.Client(), base_url=BASE, credentials=oauth)
    assert "secret" not in repr(client)
    with pytest.raises(UsageError):
        Credentials.from_env({})
    with pytest.raises(UsageError):
        Credentials.from_env({"CG_CLIENT_ID": "only-id"})


def test_error_messages_are_scrubbed_of_secrets() -> None:
    client = client_for(lambda r: httpx.Response(400, content=json.dumps(
        {"Error": {"Message": "bad key K-123 given", "Code": 200000}}).encode()))
    with pytest.raises(ApiError) as info:
        client.upload(UPLOAD, filename="a", content=b"")
    assert "K-123" not in str(info.value)
    assert "K-123" not in (info.value.api_message or "")
