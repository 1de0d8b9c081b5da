"""The Stop button's contract (pages/common/controls/stop.py), on a tiny AppTest script; the
interruption itself (a click while the computation runs) is tested in a browser
(tests/e2e/test_browser.py: test_stop_ends_a_long_comparison)."""
from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from pages.common.controls import stop

    st.session_state.setdefault("calls", 0)
    key = ("demo", st.session_state.get("setting", 1))

    def compute():
        st.session_state["calls"] += 1
        return 42

    st.write(f"result: {stop.run_or_offer('demo', key, 'The demo', compute)}")


def _app():
    at = AppTest.from_function(_script)
    at.run()
    return at


def test_runs_and_leaves_no_stop_button_behind():
    at = _app()
    assert at.session_state["calls"] == 1
    assert "result: 42" in at.markdown[0].value
    assert not [b for b in at.button if b.key == "demo_stop"] and not at.info


def test_a_stopped_computation_is_offered_not_restarted_until_asked():
    at = _app()
    at.session_state["demo_stopped"] = ("demo", 1)  # what the Stop button's callback records
    at.run()
    assert at.session_state["calls"] == 1  # not started again
    assert "was stopped" in at.info[0].value and "result: None" in at.markdown[0].value
    at.button(key="demo_restart").click().run()
    assert at.session_state["calls"] == 2 and "result: 42" in at.markdown[0].value
    at.run()
    assert at.session_state["calls"] == 3


def test_another_setting_starts_afresh():
    at = _app()
    at.session_state["demo_stopped"] = ("demo", 1)
    at.session_state["setting"] = 2
    at.run()
    assert at.session_state["calls"] == 2 and not at.info
