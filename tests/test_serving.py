"""Serving the frontend (pages/common/serving.py): files from memory, resource hints in each page."""
from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from pages.common import serving as hints

INDEX = ('<html><head><link rel="modulepreload" crossorigin href="./static/js/base.AAA.js">'
         '<link rel="preload" href="./static/media/Upright.ttf.U1.woff2" as="font"></head><body></body></html>')


@pytest.fixture
def static(tmp_path):
    """A built frontend in miniature: a chart chunk with static, side-effect and dynamic imports."""
    js, media = tmp_path / "static" / "js", tmp_path / "static" / "media"
    js.mkdir(parents=True)
    media.mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    files = {
        "Chart.X1.js": 'import{a as b}from"./dep.Y.js";import"./side.Z.js";import{c}from"./base.AAA.js";'
                       'const l=()=>import("./lazy.W.js");',
        "ChartTools.Q.js": "export const t=1;",  # shares the stem's prefix, not the stem
        "dep.Y.js": 'import{d}from"./deeper.V.js";export const a=1;',
        "side.Z.js": 'import{a}from"./dep.Y.js";',  # imported twice: listed once
        "deeper.V.js": "export const d=1;",
        "lazy.W.js": "export const e=1;",
        "base.AAA.js": 'import"./base-dep.B.js";',  # preloaded by index.html already, with its imports
        "base-dep.B.js": "",
    }
    for name, text in files.items():
        (js / name).write_text(text)
    for name in ("Icons-Rounded.I1.woff2", "Upright.ttf.U1.woff2", "Italic.ttf.T1.woff2"):
        (media / name).write_bytes(b"wOF2")
    return tmp_path


def test_chunks_are_the_named_ones_and_their_static_imports_not_yet_loaded(static):
    found, missing = hints.chunk_files(static, ("Chart", "Nope"))
    assert found == ["Chart.X1.js", "dep.Y.js", "side.Z.js", "deeper.V.js"]
    assert missing == ["Nope"]
    assert hints.chunk_files(static, ("ChartTools",))[0] == ["ChartTools.Q.js"]


def test_fonts_are_found_by_their_exact_stem(static):
    assert hints.font_files(static, ("Italic", "Icons-Rounded", "Ital")) == (
        ["Italic.ttf.T1.woff2", "Icons-Rounded.I1.woff2"], ["Ital"])


def test_head_tags_name_each_file_once_and_skip_what_the_page_preloads(static):
    tags = hints.head_tags(static, chunks=("Chart",), fonts=("Italic", "Upright")).decode()
    assert tags.count("<link") == 5
    for name in ("Chart.X1.js", "dep.Y.js", "side.Z.js", "deeper.V.js"):
        assert f'rel="modulepreload" crossorigin href="./static/js/{name}"' in tags
    assert 'rel="preload" href="./static/media/Italic.ttf.T1.woff2" as="font" type="font/woff2" crossorigin' in tags
    assert "lazy.W.js" not in tags and "base" not in tags and "Upright" not in tags


def test_the_installed_streamlit_has_every_named_file():
    """An upgrade that renames a chunk or a font fails here, not silently in the browser."""
    root = hints.static_dir()
    chunks, missing = hints.chunk_files(root)
    assert missing == [] and chunks[0].startswith("PlotlyChart.")
    assert hints.font_files(root)[1] == []
    for name in chunks:
        assert (root / "static" / "js" / name).is_file()


# --------------------------------------------------------------------------- the middleware
def _run(coro):
    """Run ``coro`` on a loop of its own in a worker thread (other tests may leave this thread's
    loop running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


PAGE = b"<html><head><title>t</title></head><body>app</body></html>"
TAGS = b'<link rel="modulepreload" href="./static/js/x.js">'


def _serve(scope_headers, path="/", status=200, content_type=b"text/html; charset=utf-8", parts=(PAGE[:20], PAGE[20:])):
    """Run a request through PreloadHints around an app that answers with ``parts``; returns
    (the headers the app saw, the response start message, the body sent)."""
    seen = {}

    async def app(scope, receive, send):
        seen.update(dict(scope["headers"]))
        body = b"".join(parts)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    out = []

    async def send(message):
        out.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": path, "headers": scope_headers}
    _run(hints.PreloadHints(app, tags=TAGS)(scope, receive, send))
    start = next(m for m in out if m["type"] == "http.response.start")
    return seen, start, b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")


BROWSER = [(b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8"), (b"accept-encoding", b"gzip, br")]


def test_a_page_gets_the_tags_before_its_head_ends_with_a_matching_length():
    seen, start, body = _serve(BROWSER, path="/path")
    assert body == PAGE.replace(b"</head>", TAGS + b"</head>")
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()
    assert b"accept-encoding" not in seen  # asked uncompressed, so the text can be edited


@pytest.mark.parametrize("headers, path, status, ctype", [
    ([(b"accept", b"*/*"), (b"accept-encoding", b"gzip")], "/_stcore/health", 200, b"text/plain"),  # not a navigation
    (BROWSER, "/static/js/x.js", 200, b"text/javascript"),  # a file
    (BROWSER, "/", 304, b"text/html"),  # not modified: no body to edit
    (BROWSER, "/data", 200, b"application/json"),  # a page address answered with something else
])
def test_other_responses_pass_untouched(headers, path, status, ctype):
    seen, start, body = _serve(headers, path=path, status=status, content_type=ctype)
    assert body == PAGE and start["status"] == status
    if path.startswith(("/_stcore", "/static")):
        assert seen.get(b"accept-encoding")  # the request itself is not changed either


# --------------------------------------------------------------------------- files from memory
def _get(static, path, method="GET", headers=(), prefix=""):
    """(messages sent by FrontendFiles, whether the request went on to the app behind it)."""
    passed, out = [], []

    async def app(scope, receive, send):
        passed.append(scope["path"])

    async def send(message):
        out.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    _run(hints.FrontendFiles(app, root=static, prefix=prefix)(scope, None, send))
    return out, bool(passed)


def test_a_frontend_file_comes_whole_in_one_message_with_streamlits_headers(static):
    out, passed = _get(static, "/static/js/Chart.X1.js")
    assert not passed and [m["type"] for m in out] == ["http.response.start", "http.response.body"]
    body = (static / "static" / "js" / "Chart.X1.js").read_bytes()
    assert out[1]["body"] == body and out[0]["status"] == 200
    h = dict(out[0]["headers"])
    assert h[b"content-type"].startswith(b"text/javascript") and h[b"content-length"] == str(len(body)).encode()
    assert h[b"cache-control"] == b"public, immutable, max-age=31536000" and h[b"etag"].startswith(b'"')
    head, _ = _get(static, "/static/js/Chart.X1.js", method="HEAD")
    assert head[1]["body"] == b"" and dict(head[0]["headers"])[b"content-length"] == str(len(body)).encode()
    again, _ = _get(static, "/static/js/Chart.X1.js", headers=[(b"if-none-match", h[b"etag"])])
    assert again[0]["status"] == 304 and again[1]["body"] == b""
    font, _ = _get(static, "/base/static/media/Italic.ttf.T1.woff2", prefix="/base")
    assert dict(font[0]["headers"])[b"content-type"] == b"font/woff2" and font[1]["body"] == b"wOF2"


@pytest.mark.parametrize("path, method, headers", [
    ("/static/js/missing.js", "GET", ()),  # not a file of the build
    ("/static/../index.html", "GET", ()),  # never a path built from the request
    ("/static/js/../../index.html", "GET", ()),
    ("/index.html", "GET", ()),  # outside static/
    ("/static/js/Chart.X1.js", "POST", ()),
    ("/static/media/Italic.ttf.T1.woff2", "GET", [(b"range", b"bytes=0-1")]),  # ranges: Streamlit's own answer
    ("/static/js/Chart.X1.js", "GET", ()),  # with a base path configured, only under it
])
def test_anything_else_goes_on_to_streamlit(static, path, method, headers):
    out, passed = _get(static, path, method=method, headers=headers,
                       prefix="/base" if path == "/static/js/Chart.X1.js" and method == "GET" else "")
    assert passed and out == []


@pytest.mark.parametrize("middleware", [hints.FrontendFiles, hints.PreloadHints])
def test_websockets_and_lifespan_pass_through(static, middleware):
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    mw = middleware(app, root=static, prefix="") if middleware is hints.FrontendFiles else middleware(app, tags=TAGS)
    for scope in ({"type": "websocket", "path": "/_stcore/stream", "headers": []}, {"type": "lifespan"}):
        _run(mw(scope, None, None))
    assert seen == ["websocket", "lifespan"]
