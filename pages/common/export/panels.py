"""The Overview's export and certify panels: downloads of the model, the data and a snippet;
certification of an uploaded network."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cvx_core.datasets import Dataset

from .. import errors, lecture
from .chart import server_export_available
from .files import MAX_JSON_BYTES, certify_network, data_csv, load_network, model_json, train_csv
from .snippet import SNIPPET_INLINE_ROWS, snippet


def export_panel(c, data: Dataset, fit, patterns="exact") -> None:
    """Downloads for the current view: model JSON, data CSV, and the reproducing snippet."""
    tag = c.dataset if not c.source else "user"
    cols = st.columns(3)
    if fit is not None:
        cols[0].download_button("Model weights (JSON)", model_json(fit), file_name=f"network_{tag}.json",
                                mime="application/json", icon=":material/data_object:", key="exp_json")
    cols[1].download_button("Data (CSV)", data_csv(data), file_name=f"data_{tag}.csv", mime="text/csv",
                            icon=":material/table:", key="exp_csv")
    rescaled = hasattr(data, "to_raw") and (np.any(data.half != 1) or np.any(data.center != 0))
    if rescaled:
        cols[2].download_button("Data in the file's units (CSV)", data_csv(data, raw=True),
                                file_name=f"data_{tag}_raw.csv", mime="text/csv", key="exp_csv_raw")
    st.caption("Figures: the camera icon on each figure downloads it in the browser "
               f"({st.session_state.get('fmt', 'png').upper()}; change the format under Share and present)"
               + ("; the PNG/SVG buttons under a figure render it on the server." if server_export_available() else "."))
    try:
        code = snippet(c, data, patterns)
    except ValueError as exc:
        st.info(f"No snippet: {exc}")
        return
    st.markdown("**Reproduce this result in Python** (needs only `cvx_core`):")
    st.code(code, language="python")
    if c.source and data.X.shape[0] > SNIPPET_INLINE_ROWS:
        st.download_button("Training data for the snippet (CSV)", train_csv(data), file_name="data_train.csv",
                           mime="text/csv", key="exp_train_csv")


def certify_panel(c, data: Dataset) -> None:
    """Upload a network's weights as JSON and certify it on the current data at the current beta."""
    up = st.file_uploader("Network JSON (keys U, alpha, activation, leak, bias; as exported above)",
                          type=["json"], key="cert_upload", max_upload_size=1)
    lecture.explain("U has one row per hidden neuron (input weights, then the bias weight when bias is true); "
                    "alpha holds the output weights. The file is parsed as JSON, never unpickled.")
    if up is None:
        return
    try:
        if up.size > MAX_JSON_BYTES:  # refuse before reading
            raise ValueError(f"the file is {up.size / 1e6:.1f} MB; the limit for a network JSON is "
                             f"{MAX_JSON_BYTES / 1e6:.1f} MB")
        net = load_network(up.getvalue())
        with st.spinner("Certifying over the activation patterns..."):
            cert = certify_network(net, data, c.beta, c.loss)
    except (ValueError, TypeError) as exc:
        errors.bad_input(f"{up.name}: {exc}")
        return
    except RuntimeError as exc:
        errors.solver_outcome(f"{up.name}: the certificate could not be computed: {exc}")
        return
    m = st.columns(4)
    m[0].metric("Objective of the network", f"{cert.objective:.6g}")
    m[1].metric("Certified gap", f"{cert.gap:.1e}", help="(objective - certified lower bound) / objective")
    m[2].metric("cert / beta", f"{cert.certificate:.4f}", help="<= 1 and a stationary network means globally optimal")
    m[3].metric("Neurons", net.n_neurons)
    verdict = "globally optimal (gap <= 1e-6)" if cert.globally_optimal else "not certified optimal"
    st.markdown(f"**{up.name}**: {verdict} at beta = {c.beta:.3g} with the {c.loss} loss; lower bound "
                f"{cert.lower_bound:.6g} over {'all' if cert.exact else 'sampled'} {cert.n_patterns:,} patterns.")
    if not cert.globally_optimal:
        st.caption(f"A neuron to insert: direction u* = ({', '.join(f'{v:.3f}' for v in cert.u_star)}) with output sign "
                   f"{cert.u_star_sign:+d} violates the dual constraint most.")
    if net.activation != c.activation or net.bias != c.bias:
        st.info(f"The network's own activation ({net.activation}) and bias ({net.bias}) are used, "
                f"not the sidebar's ({c.activation}, {c.bias}).")
