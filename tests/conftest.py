"""Session set-up shared by all tests."""
import pytest


@pytest.fixture(scope="session", autouse=True)
def _compiled_kernels():
    """Compile the numba kernels (cvx_core.kernels.rows, cvx_core.kernels.cones) before the first
    test: on the first run after installation that takes ~20-40 s, which would otherwise land
    inside one app test's timeout (later runs load them from the on-disk cache in ~0.5 s)."""
    from cvx_core.solvers import warm_up

    warm_up()
