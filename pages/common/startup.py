"""Server start-up: a fresh process runs its first page once before anyone asks for it.

``streamlit run app.py`` serves ``app.py``'s ``st.App``; its lifespan (:func:`lifespan`) opens
one headless session on the server's own runtime, asks it for the default page as a browser
would, discards the messages and closes it. That run happens while the first visitor's browser
is still loading the frontend (about a second, the server idle meanwhile), and leaves behind
what every later run reuses: the imports, the default fit in the page's cache, plotly's
template and validators, the Overview's figure. The first visitor's run then only draws.
"""
from __future__ import annotations

import asyncio
import gc
import time
from contextlib import asynccontextmanager

from streamlit.logger import get_logger
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import Runtime

_LOG = get_logger(__name__)

#: Seconds the warm-up waits for its run before giving up (a first start after installation
#: compiles nothing on the default page; the run takes about half a second).
TIMEOUT = 60.0


class _Sink:
    """A session client that counts what the run sends and notes how it finished."""

    client_context = None

    def __init__(self) -> None:
        self.messages = 0
        self.finished: str | None = None
        self.exception: str | None = None
        self.done = asyncio.Event()

    def write_forward_msg(self, msg) -> None:
        self.messages += 1
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
            self.exception = msg.delta.new_element.exception.message
        elif kind == "script_finished":
            self.finished = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
            self.done.set()


async def warm_up(runtime: Runtime) -> dict:
    """Run the app's default page in a headless session.

    Returns what happened: ``finished`` (how the run ended, e.g. "FINISHED_SUCCESSFULLY"; None
    on a timeout), ``messages``, ``exception`` (an error the page showed, else None), ``seconds``.
    """
    sink = _Sink()
    t0 = time.perf_counter()
    session_id = runtime.connect_session(client=sink, user_info={})
    try:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        runtime.handle_backmsg(session_id, msg)
        try:
            await asyncio.wait_for(sink.done.wait(), TIMEOUT)
        except asyncio.TimeoutError:
            pass
    finally:
        runtime.close_session(session_id)
    return {"finished": sink.finished, "messages": sink.messages, "exception": sink.exception,
            "seconds": time.perf_counter() - t0}


async def _warm_and_report(runtime: Runtime) -> None:
    try:
        out = await warm_up(runtime)
    except Exception:  # the server serves on without it; the first visitor's run does the work
        _LOG.exception("start-up warm-up failed")
        return
    gc.freeze()  # what the run imported and cached lives as long as the server
    _LOG.info("start-up warm-up: first page ran in %.2f s (%d messages, finished=%s, exception=%s)",
              out["seconds"], out["messages"], out["finished"], out["exception"])


@asynccontextmanager
async def lifespan(app):
    """st.App's lifespan: serve at once; the warm-up runs beside the first requests."""
    gc.freeze()  # the server's start-up objects: the first run's collections skip them
    task = asyncio.get_running_loop().create_task(_warm_and_report(Runtime.instance()))
    yield
    task.cancel()
