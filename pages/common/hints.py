"""Resource hints: a fresh visitor's browser fetches the chart code and the fonts early.

Streamlit's frontend fetches an element's code (plotly's chunk is 4.7 MB) and a font only when
the first message or text needing it arrives, after the frontend's own bundle has run and the
script has answered. Every page of the app draws plotly charts, icons and italic text, and the
Overview formulas; :class:`PreloadHints` adds ``<link rel="modulepreload">`` and
``<link rel="preload">`` tags for them to the ``index.html`` Streamlit serves, so the browser
fetches and compiles them while it is still loading the frontend.

Files are named by their stems; the installed Streamlit's hashed names are looked up once. A
stem it lacks is skipped (the page works as before) and a test says which.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

#: Frontend chunks to preload, with the chunks they import statically.
CHUNKS = ("PlotlyChart",)
#: Fonts to preload: icons, italic text, the KaTeX faces of the Overview's formulas.
FONTS = ("MaterialSymbols-Rounded", "SourceSansVF-Italic", "KaTeX_Main-Regular", "KaTeX_Math-Italic",
         "KaTeX_Size2-Regular")

# Static imports of a built chunk (`import{a}from"./x.js"`, `import"./x.js"`); dynamic imports
# (`import("./x.js")`) are loaded on demand and stay out.
_STATIC_IMPORT = re.compile(rb'(?:\bfrom|\bimport)\s*"\./([\w.\-]+\.js)"')
_HEAD_BYTES = 64_000
# Streamlit's own routes and files: never an index.html
_NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/app/static/")


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


def chunk_files(root: Path, stems=CHUNKS) -> tuple[list[str], list[str]]:
    """(the chunks named by ``stems`` and every chunk they import statically that ``index.html``
    does not load already, as file names under ``root/static/js`` in a stable order; the stems
    not found)."""
    js = root / "static" / "js"
    index = (root / "index.html").read_text()
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
            for name in chunk_files(root, chunks)[0]]
    tags += [f'<link rel="preload" href="./static/media/{html.escape(name)}" as="font" type="font/woff2" crossorigin>'
             for name in font_files(root, fonts)[0] if f"/{name}" not in index]
    return "".join(tags).encode()


@lru_cache(maxsize=1)
def _installed_tags() -> bytes:
    return head_tags(static_dir())


def _is_page_request(scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    if any(p in scope.get("path", "") for p in _NOT_PAGES):
        return False
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept"), b"")
    return b"text/html" in accept  # a browser's navigation, which Streamlit answers with index.html


def _warmed() -> bool:
    from .startup import warmed

    return warmed()


class PreloadHints:
    """ASGI middleware: puts ``tags`` (default: :func:`head_tags` of the installed Streamlit)
    before ``</head>`` of every HTML page the app serves once ``ready()`` (default: the process's
    start-up warm-up has ended); other responses pass untouched.

    Not before: the warm-up's run holds the interpreter, and 5 MB more to serve meanwhile made a
    fresh server's first page later, not sooner (benchmarks/cold_start.py).
    """

    def __init__(self, app, tags: bytes | None = None, ready=_warmed):
        self.app = app
        self.tags = _installed_tags() if tags is None else tags
        self.ready = ready

    async def __call__(self, scope, receive, send):
        if not self.tags or not _is_page_request(scope) or not self.ready():
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
