"""How the server hands Streamlit's frontend to a browser: from memory, and the big parts early.

Two ASGI middlewares on the app's ``st.App`` (app.py):

- :class:`FrontendFiles` serves the frontend's hashed files (``/static/...``: scripts, styles,
  fonts) from memory in one send each. Streamlit's own file responses read a file in 64 kB
  pieces, each handed to a worker thread; while the start-up warm-up's script run holds the
  interpreter, every hand-over waited for it, and a fresh server's first page came ~0.25 s
  later than the bare app's (benchmarks/cold_start.py).
- :class:`PreloadHints` names plotly's chunk (4.7 MB) and the fonts in each ``index.html``, so
  the browser fetches and compiles them while its own bundle loads, instead of after the
  script's first messages.

Files are named by their stems; the installed Streamlit's hashed names are looked up once. A
stem it lacks is skipped (the page works as before) and a test says which.
"""
from __future__ import annotations

import hashlib
import html
import mimetypes
import re
from email.utils import formatdate
from pathlib import Path

from streamlit.web.server.starlette.starlette_server_config import STATIC_ASSET_CACHE_MAX_AGE_SECONDS

#: Frontend chunks to preload, with the chunks they import statically.
CHUNKS = ("PlotlyChart",)
#: Fonts to preload: icons, italic text, the KaTeX faces of the Overview's formulas.
FONTS = ("MaterialSymbols-Rounded", "SourceSansVF-Italic", "KaTeX_Main-Regular", "KaTeX_Math-Italic",
         "KaTeX_Size2-Regular")

# Static imports of a built chunk (`import{a}from"./x.js"`, `import"./x.js"`); dynamic imports
# (`import("./x.js")`) are loaded on demand and stay out.
_STATIC_IMPORT = re.compile(rb'(?:\bfrom|\bimport)\s*"\./([\w.\-]+\.js)"')
_HEAD_BYTES = 64_000
# Streamlit's own routes and files (the app's static files too): never an index.html
_NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/")


def static_dir() -> Path:
    from streamlit import file_util

    return Path(file_util.get_static_dir())


def find(directory: Path, stem: str, suffix: str) -> Path | None:
    """The hashed file ``<stem>.<...><suffix>`` in ``directory`` (e.g. ``PlotlyChart.D9Z0_fxz.js``,
    ``SourceSansVF-Italic.ttf.Bt9VkdQ3.woff2``), or None."""
    for path in sorted(directory.glob(f"{stem}.*{suffix}")):
        if path.name.split(".")[0] == stem:
            return path
    return None


def chunk_files(root: Path, stems=CHUNKS, index: str | None = None) -> tuple[list[str], list[str]]:
    """(the chunks named by ``stems`` and every chunk they import statically that ``index.html``
    (its text: ``index``, read from ``root`` if not given) does not load already, as file names
    under ``root/static/js`` in a stable order; the stems not found)."""
    js = root / "static" / "js"
    index = (root / "index.html").read_text() if index is None else index
    todo, missing = [], []
    for stem in stems:
        path = find(js, stem, ".js")
        (todo.append(path.name) if path else missing.append(stem))
    found: list[str] = []
    while todo:
        name = todo.pop(0)
        if name in found or f"/{name}" in index or not (js / name).is_file():
            continue
        found.append(name)
        with open(js / name, "rb") as f:  # a built module's static imports open it
            todo.extend(m.decode() for m in _STATIC_IMPORT.findall(f.read(_HEAD_BYTES)))
    return found, missing


def font_files(root: Path, stems=FONTS) -> tuple[list[str], list[str]]:
    """(the fonts named by ``stems``, as file names under ``root/static/media``; the stems not found)."""
    paths = {stem: find(root / "static" / "media", stem, ".woff2") for stem in stems}
    return [p.name for p in paths.values() if p], [s for s, p in paths.items() if p is None]


def head_tags(root: Path, chunks=CHUNKS, fonts=FONTS) -> bytes:
    """The ``<link>`` tags for ``root``'s ``index.html`` (files it already preloads left out)."""
    index = (root / "index.html").read_text()
    tags = [f'<link rel="modulepreload" crossorigin href="./static/js/{html.escape(name)}">'
            for name in chunk_files(root, chunks, index)[0]]
    tags += [f'<link rel="preload" href="./static/media/{html.escape(name)}" as="font" type="font/woff2" crossorigin>'
             for name in font_files(root, fonts)[0] if f"/{name}" not in index]
    return "".join(tags).encode()


def _is_page_request(scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    if any(p in scope.get("path", "") for p in _NOT_PAGES):
        return False
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept"), b"")
    return b"text/html" in accept  # a browser's navigation, which Streamlit answers with index.html


class PreloadHints:
    """ASGI middleware: puts ``tags`` (default: :func:`head_tags` of the installed Streamlit)
    before ``</head>`` of every HTML page the app serves; other responses pass untouched."""

    def __init__(self, app, tags: bytes | None = None):
        self.app = app
        self.tags = head_tags(static_dir()) if tags is None else tags

    async def __call__(self, scope, receive, send):
        if not self.tags or not _is_page_request(scope):
            await self.app(scope, receive, send)
            return
        # asked for uncompressed (the page is 8 kB), so the tags can go into its text
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"accept-encoding"])
        start, body = None, []

        async def edit(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                if message["status"] == 200 and headers.get(b"content-type", b"").startswith(b"text/html") \
                        and b"content-encoding" not in headers:
                    start = message  # held until the body is complete
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = b"".join(body).replace(b"</head>", self.tags + b"</head>", 1)
                headers = [(k, v) for k, v in start.get("headers", ()) if k != b"content-length"]
                await send(dict(start, headers=headers + [(b"content-length", str(len(page)).encode())]))
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, edit)


def _static_prefix() -> str:
    """Where Streamlit serves its frontend's files: ``/static/``, under ``server.baseUrlPath``."""
    from streamlit import config
    from streamlit.url_util import make_url_path

    return make_url_path(config.get_option("server.baseUrlPath") or "", "static/")


class FrontendFiles:
    """ASGI middleware: answers GET/HEAD for a file of ``root/static`` (default: the installed
    Streamlit's) from memory, with Streamlit's headers (type, ETag, long-lived caching) and a 304
    to a matching ``If-None-Match``; anything else (other paths, range requests) passes on.

    Only the files present at start-up are served (looked up by exact name: no path is ever
    built from the request); each is read once, when first asked for.
    """

    def __init__(self, app, root: Path | None = None, prefix: str | None = None):
        """``prefix``: the base path the files are under ("" for none; default: Streamlit's)."""
        self.app = app
        files = (root or static_dir()) / "static"
        self.prefix = _static_prefix() if prefix is None else prefix + "/static/"
        self.paths = {p.relative_to(files).as_posix(): p for p in files.rglob("*") if p.is_file()}
        self.loaded: dict[str, tuple[bytes, dict[bytes, bytes]]] = {}

    def _load(self, name: str) -> tuple[bytes, dict[bytes, bytes]]:
        if name not in self.loaded:
            path = self.paths[name]
            body = path.read_bytes()
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if ctype.startswith("text/"):
                ctype += "; charset=utf-8"
            self.loaded[name] = (body, {
                b"content-type": ctype.encode(), b"content-length": str(len(body)).encode(),
                b"last-modified": formatdate(path.stat().st_mtime, usegmt=True).encode(),
                b"etag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'.encode(),
                b"cache-control": f"public, immutable, max-age={STATIC_ASSET_CACHE_MAX_AGE_SECONDS}".encode()})
        return self.loaded[name]

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        name = path[len(self.prefix):] if path.startswith(self.prefix) else None
        request = dict(scope["headers"]) if name in self.paths and scope["method"] in ("GET", "HEAD") else None
        if request is None or b"range" in request:
            await self.app(scope, receive, send)
            return
        body, headers = self._load(name)
        if request.get(b"if-none-match") == headers[b"etag"]:
            kept = (b"etag", b"last-modified", b"cache-control")
            await send({"type": "http.response.start", "status": 304, "headers": [(k, headers[k]) for k in kept]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": list(headers.items())})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
