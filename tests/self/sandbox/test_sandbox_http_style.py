"""The sandbox's HTTP styles: each switch changes how answers travel on the wire, never what they say."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from conformance.cli import main
from conformance.core.clock import VirtualClock
from conformance.sandbox.http_style import HTTP_STYLES, accepts_gzip, http_styles
from conformance.sandbox.serve import running
from tests.self.reference import bundled_contract
from tests.self.sandbox.sandbox_support import build, key

PATH = bundled_contract().paths["register"]
REFUSED = {"error": "Body empty or unparseable", "code": "REQUEST_INVALID"}  # the answer to `{}`


@contextmanager
def _served(*styles: str) -> Iterator[str]:
    with running(build(VirtualClock(), http=http_styles(styles))) as url:
        yield url


def _post(url: str, *, accept: str = "gzip", account: str = "good") -> httpx.Response:
    headers = {"Accept-Encoding": accept, "Content-Type": "application/json"}
    if account:
        headers["X-Api-Key"] = key(account)
    return httpx.post(url + PATH, content=b"{}", headers=headers, timeout=5)


def _raw_exchange(url: str) -> bytes:
    """One keep-alive HTTP/1.1 request on a raw socket, and every byte the server sends until it
    closes the connection or goes quiet for a second."""
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\n"
        f"X-Api-Key: {key('good')}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    ).encode()
    received = bytearray()
    with socket.create_connection((host, int(port)), timeout=1) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received.extend(chunk)
        except TimeoutError:
            received.extend(b"<still open>")
    return bytes(received)


def test_the_reference_answer_has_a_length_and_keeps_the_connection() -> None:
    """No style: Content-Length, a bare application/json, no compression, the connection kept open."""
    with _served() as url:
        response = _post(url)
        wire = _raw_exchange(url)
    assert response.headers["content-type"] == "application/json"
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)
    assert wire.endswith(b"<still open>")


def test_gzip_compresses_when_the_request_accepts_it() -> None:
    """gzip: a JSON answer is gzip-compressed on the wire when Accept-Encoding allows it, and only
    then; a body-less answer stays body-less."""
    with _served("gzip") as url:
        accepted, refused, bodyless = _post(url), _post(url, accept="identity"), _post(url, account="")
        head, _, body = _raw_exchange(url).removesuffix(b"<still open>").partition(b"\r\n\r\n")
    assert accepted.headers["content-encoding"] == "gzip"
    assert accepted.json() == REFUSED
    assert b"content-encoding: gzip" in head.lower()
    assert gzip.decompress(body) == accepted.content
    assert "content-encoding" not in refused.headers
    assert refused.json() == REFUSED
    assert bodyless.status_code == 401
    assert not bodyless.content
    assert "content-encoding" not in bodyless.headers


def test_chunked_sends_the_body_in_pieces_without_a_length() -> None:
    """chunked: Transfer-Encoding: chunked, no Content-Length, and the body arrives whole."""
    with _served("chunked") as url:
        response = _post(url)
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers
    assert response.json() == REFUSED


def test_close_ends_the_connection_after_every_answer() -> None:
    """close: `Connection: close`, and the server closes the connection a keep-alive request opened."""
    with _served("close") as url:
        response = _post(url)
        wire = _raw_exchange(url)
    assert response.headers["connection"] == "close"
    assert not wire.endswith(b"<still open>")
    assert wire.startswith(b"HTTP/1.1 400")


def test_charset_names_utf8_on_the_json_content_type() -> None:
    """charset: `application/json; charset=utf-8`."""
    with _served("charset") as url:
        response = _post(url)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == REFUSED


def test_all_styles_at_once_still_say_the_same() -> None:
    """Every style at once (`--http all`): the same status and body as the reference."""
    with _served() as plain_url:
        plain = _post(plain_url)
    with _served("all") as url:
        styled = _post(url)
    assert (styled.status_code, styled.json()) == (plain.status_code, plain.json())
    assert {"content-encoding", "transfer-encoding", "connection"} <= set(styled.headers)


@pytest.mark.parametrize(
    ("header", "accepted"),
    [("gzip", True), ("deflate, gzip;q=0.5", True), ("gzip;q=0", False), ("*", True), ("br", False)],
)
def test_accept_encoding_is_read_with_its_q_values(header: str, accepted: bool) -> None:
    """gzip (or `*`) with a q-value above 0 allows it; `q=0` refuses it."""
    assert accepts_gzip([(b"accept-encoding", header.encode())]) is accepted


def test_an_unknown_style_is_one_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`sandbox serve --http bogus`: exit 2, one message naming the styles there are."""
    assert main(["sandbox", "serve", "--port", "0", "--http", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown HTTP style 'bogus'" in err
    assert all(style in err for style in HTTP_STYLES)
    assert "Traceback" not in err
