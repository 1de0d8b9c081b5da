"""The CSV upload panel of the Overview page: upload, validation message, preview, rescaling."""
from __future__ import annotations

import numpy as np
import streamlit as st

from .. import errors, lecture
from ..imports import pandas
from ..url import notice
from . import table as data_io
from .registry import USER_TABLE, clear_table, set_table

_UPLOAD_ERROR = "_upload_error"


# --------------------------------------------------------------------------- upload
def _on_upload() -> None:
    f = st.session_state.get("home_upload")
    if f is None:  # the file was removed from the widget: keep the data loaded
        return
    try:
        data_io.check_size(int(f.size))
        table = data_io.parse_csv(f.getvalue(), f.name)
    except ValueError as exc:
        st.session_state[_UPLOAD_ERROR] = f"{f.name}: {exc}"
        return
    st.session_state.pop(_UPLOAD_ERROR, None)
    set_table(table)
    notice(f"loaded {table.name}: {table.n} rows")


def upload_panel(data) -> None:
    """CSV upload, validation message, preview of the loaded table, rescaling control."""
    ss = st.session_state
    st.file_uploader(
        "CSV with a header: x1,x2,label (two classes) or x,y (1-D regression)", type=["csv", "txt"],
        key="home_upload", on_change=_on_upload, max_upload_size=max(1, data_io.MAX_BYTES // 1_000_000),
    )
    if ss.get(_UPLOAD_ERROR):
        errors.bad_input(ss[_UPLOAD_ERROR].rstrip(".") + "." + (" The previously loaded data stays in use." if ss.get(USER_TABLE) else ""))
    table = ss.get(USER_TABLE)
    if table is None:
        lecture.explain(f"Up to {data_io.MAX_ROWS:,} rows and {data_io.MAX_BYTES / 1e6:.0f} MB. The label column is the "
                        "last one; two distinct labels are mapped to -1/+1.")
        return
    mapping = ", ".join(f"{k} -> {v:+d}" for k, v in table.label_map.items())
    st.success(f"Loaded **{table.name}**: {table.n} rows, {table.task}"
               + (f", labels {mapping}" if mapping else "") + f". SHA-256 {table.sha[:12]}...")
    # only with uploaded data (pandas and pyarrow took ~1 s of a fresh server's first page), and
    # not while other sessions build figures (pages.common.imports)
    pd = pandas()

    st.dataframe(pd.DataFrame(np.c_[table.X, table.y], columns=list(table.columns)).head(8), height=200)
    st.toggle("Rescale the features to the box [-1, 1]", key="rescale",
              help="Each feature column is mapped affinely onto [-1, 1]; switch off to train in the file's units.")
    if ss["src"] == "upload" and hasattr(data, "center"):
        rows = [f"{c}: center {m:.6g}, half-width {h:.6g}" for c, m, h in zip(table.columns, data.center, data.half)]
        st.caption(("In use: x_box = (x - center) / half-width, so x = x_box * half-width + center. "
                    if ss["rescale"] else "Not rescaled (identity). ") + "; ".join(rows) + ". "
                   "Data downloads offer both the box and the file's units.")
    st.button("Forget the uploaded data", on_click=clear_table, icon=":material/delete:")
