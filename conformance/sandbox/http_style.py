"""How the sandbox speaks HTTP: switches for what real servers do that the reference answer does not.

The reference answers with a Content-Length, no compression, a bare `application/json` and a
connection kept alive. Servers behind CDNs and proxies differ in each, and a client (the suite's
included) must read them all the same. Each style is a switch (`conformance sandbox serve --http
STYLE`), all of them at once with `--http all`:

- `gzip`: the body gzip-compressed (Content-Encoding: gzip), when the request's Accept-Encoding allows it;
- `chunked`: no Content-Length, the body sent in several pieces (served: Transfer-Encoding: chunked);
- `close`: `Connection: close` on every answer, so the server closes the connection after each one;
- `charset`: `application/json; charset=utf-8` as the JSON content type.

None changes what an answer says, only how it travels; a dropped answer stays dropped.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_STYLES = ("gzip", "chunked", "close", "charset")
ALL_STYLES = "all"
JSON = b"application/json"
CHARSET_JSON = b"application/json; charset=utf-8"
# How many pieces a chunked body is sent in (at least one byte each): more than one shows the
# client reassembles it.
CHUNKED_PIECES = 3
DROPPED_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


def http_styles(given: Iterable[str]) -> frozenset[str]:
    """The styles named (`all`: every one); ValueError naming the valid ones for anything else."""
    styles: set[str] = set()
    for name in given:
        if name == ALL_STYLES:
            styles.update(HTTP_STYLES)
        elif name in HTTP_STYLES:
            styles.add(name)
        else:
            raise ValueError(f"unknown HTTP style {name!r}; the styles are: {', '.join(HTTP_STYLES)}, all")
    return frozenset(styles)


class HttpStyle:
    """ASGI middleware: each answer of the app, re-sent in the chosen styles."""

    def __init__(self, app: ASGIApp, styles: frozenset[str]) -> None:
        self._app = app
        self._styles = styles

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._styles:
            await self._app(scope, receive, send)
            return
        compress = "gzip" in self._styles and accepts_gzip(scope.get("headers", ()))
        started: list[Message] = []
        body = bytearray()

        async def styled(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(message)
            elif message["type"] == "http.response.body" and started:
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send(send, started[0], bytes(body), compress=compress)
            else:
                await send(message)

        await self._app(scope, receive, styled)

    async def _send(self, send: Send, start: Message, body: bytes, *, compress: bool) -> None:
        headers = [
            (bytes(n), bytes(v))
            for n, v in start.get("headers", ())
            if bytes(n).lower() not in DROPPED_HEADERS
        ]
        if "charset" in self._styles:
            headers = [
                (n, CHARSET_JSON if n.lower() == b"content-type" and v == JSON else v) for n, v in headers
            ]
        if compress and body:
            body = gzip.compress(body, mtime=0)
            headers += [(b"content-encoding", b"gzip"), (b"vary", b"accept-encoding")]
        if "close" in self._styles:
            headers.append((b"connection", b"close"))
        pieces = _pieces(body) if "chunked" in self._styles else [body]
        if "chunked" not in self._styles:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        for piece in pieces[:-1]:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": pieces[-1], "more_body": False})


def accepts_gzip(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether Accept-Encoding allows gzip: named (or `*`) with a q-value above 0."""
    for name, value in headers:
        if bytes(name).lower() != b"accept-encoding":
            continue
        for item in bytes(value).decode("latin-1").split(","):
            coding, _, parameters = item.strip().partition(";")
            if coding.strip().lower() in ("gzip", "*") and _quality(parameters) > 0:
                return True
    return False


def _quality(parameters: str) -> float:
    name, _, value = parameters.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def _pieces(body: bytes) -> list[bytes]:
    """The body cut into up to CHUNKED_PIECES non-empty pieces (one empty piece for no body)."""
    if not body:
        return [b""]
    size = max(1, -(-len(body) // CHUNKED_PIECES))
    return [body[i : i + size] for i in range(0, len(body), size)]
