"""A fresh server's first page loads only what it needs (issue 22: start-up)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Libraries the Overview's first script run must not import (each costs a fresh server
#: 0.1-1.3 s: pandas brings pyarrow; kaleido only renders server-side exports; numba is
#: loaded in the background after the first page; scipy, 0.15 s even for scipy.sparse alone:
#: the small fits hand Clarabel matrices built by cvx_core.sparse).
HEAVY = ("cvxpy", "sklearn", "kaleido", "pandas", "pyarrow", "numba", "scipy")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    return set(out.stdout.strip().splitlines()[-1].split())


def test_the_overviews_first_run_imports_no_heavy_library():
    code = ("from streamlit.testing.v1 import AppTest\n"
            "at = AppTest.from_file('app.py', default_timeout=300)\n"
            "at.run()\n"
            "assert not at.exception, at.exception\n"
            "assert at.metric, 'the Overview drew no metric'\n")
    loaded = _modules_after(code)
    assert "cvx_core.convex" in loaded  # the run did solve
    assert not [m for m in HEAVY if m in loaded], sorted(m for m in HEAVY if m in loaded)


def test_a_page_with_live_charts_imports_no_pandas():
    """A live chart's arguments other than the figure go as JSON text: Streamlit tests every
    other component argument for a dataframe, and that test imports pandas (0.26 s on a fresh
    server's first Sparsity path, Arrangements or CNN page)."""
    code = ("from streamlit.testing.v1 import AppTest\n"
            "at = AppTest.from_file('app.py', default_timeout=300)\n"
            "at.run()\n"
            "at.switch_page('pages/path.py')\n"
            "at.run()\n"
            "assert not at.exception, at.exception\n"
            "assert len(at.get('component_instance')) >= 2, 'no live chart drawn'\n")
    assert "pandas" not in _modules_after(code)


def test_the_cnn_page_imports_no_scipy_optimize_without_kinks():
    """cvx_core.gradients imports scipy.optimize (with scipy.linalg, ~0.3 s on a fresh server)
    only for a point on a neuron's kink; the CNN page's default runs have none."""
    code = ("from streamlit.testing.v1 import AppTest\n"
            "at = AppTest.from_file('app.py', default_timeout=300)\n"
            "at.run()\n"
            "at.switch_page('pages/cnn.py')\n"
            "at.run()\n"
            "assert not at.exception, at.exception\n"
            "assert at.metric, 'the CNN page drew no metric'\n")
    loaded = _modules_after(code)
    assert "cvx_core.cnn_training" in loaded and "scipy.optimize" not in loaded


def test_the_first_run_freezes_the_servers_heap_once():
    """app.py moves the objects alive before its first run to the permanent generation (the
    first page's imports then trigger no full collection over them); later runs freeze nothing
    more (the count only shrinks as frozen objects are freed)."""
    code = ("import gc\n"
            "from streamlit.testing.v1 import AppTest\n"
            "at = AppTest.from_file('app.py', default_timeout=300)\n"
            "before = gc.get_freeze_count()\n"
            "at.run()\n"
            "first = gc.get_freeze_count()\n"
            "at.run()\n"
            "assert before == 0 and first > 10000 and gc.get_freeze_count() <= first, (before, first, gc.get_freeze_count())\n")
    _modules_after(code)


def test_the_engines_data_and_model_load_without_the_solvers():
    loaded = _modules_after("import cvx_core.datasets, cvx_core.model")
    assert not [m for m in loaded if m.startswith(("cvx_core.solvers", "cvx_core.cnn", "scipy.optimize", "clarabel"))]


def test_every_public_name_still_imports():
    code = ("import cvx_core\n"
            "for name in cvx_core.__all__: getattr(cvx_core, name)\n"
            "from cvx_core import fit_convex, regularization_path, ConvNet, STATUSES\n"
            "assert cvx_core.path.regularization_path is regularization_path\n")
    _modules_after(code)


def test_streamlit_run_serves_the_apps_st_app():
    """``streamlit run app.py`` finds app.py's ``st.App`` (its lifespan warms a fresh server,
    pages/common/startup.py) the way Streamlit's command line looks for one."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app", found
