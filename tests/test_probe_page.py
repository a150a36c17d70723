"""AppTest of the Probe page against the local fault-injecting server (no other network)."""
import time

from streamlit.testing.v1 import AppTest

import planner.probe.run  # noqa: F401 - AppTest puts pages/ on sys.path, where pages/planner.py would shadow the package
from ui import probe_charts


def _run(at):
    at.run(timeout=30)
    assert not at.exception, at.exception
    return at


def test_page_shows_its_widgets_and_probes_a_fake_server(fault_server):
    at = _run(AppTest.from_file("../pages/probe.py", default_timeout=30))
    labels = {w.label for w in at.text_input}
    assert {"Endpoint URL", "API key", "Concurrency levels"} <= labels
    at.text_input(key="probe_url").set_value(f"{fault_server}/ok")
    at.text_input(key="probe_key").set_value("sk-page-secret")
    at.text_input(key="probe_levels").set_value("1,2")
    at.number_input(key="probe_n").set_value(2)
    at.number_input(key="probe_ol").set_value(4)
    at.number_input(key="probe_il").set_value(64)
    _run(at)
    at.button(key="probe_run").click()
    _run(at)
    job = at.session_state["probe_job"]
    deadline = time.monotonic() + 15
    while job.running and time.monotonic() < deadline:
        time.sleep(0.1)
    _run(at)
    _run(at)
    assert at.session_state["probe_result"].levels[1].completed == 2
    assert "sk-page-secret" not in str(dict(at.query_params))
    assert at.query_params["levels"] in ("1,2", ["1,2"])
    at.button(key="probe_calibrate").click()
    _run(at)
    assert at.session_state["probe_fit"].rms_log_error_after <= at.session_state["probe_fit"].rms_log_error_before
    assert any("Calibrated" in s.value for s in at.success)
    assert at.button(key="probe_to_planner").label.startswith("Re-predict in the Planner")


def test_bad_url_is_one_line_not_a_traceback():
    at = _run(AppTest.from_file("../pages/probe.py", default_timeout=30))
    at.text_input(key="probe_url").set_value("ftp://nowhere")
    at.button(key="probe_run").click()
    _run(at)
    assert at.error and "http" in at.error[0].value


def test_figure_builders():
    rows = [{"concurrency": c, "metric": m, "measured": 10.0 * c, "predicted": 12.0 * c, "error_pct": 20.0}
            for c in (1, 4) for m in ("ttft_ms", "tpot_ms", "output_tokens_per_s")]
    fig = probe_charts.predicted_vs_measured(rows, rows)
    assert len(fig.data) == 9 and list(fig.data[1].y) == [12.0, 48.0]
    live = probe_charts.live_points([{"concurrency": 1, "ok": True, "ttft_ms": 100.0, "tpot_ms": 50.0},
                                     {"concurrency": 1, "ok": False, "ttft_ms": None, "tpot_ms": None}])
    assert [t.name for t in live.data] == ["concurrency 1", "concurrency 1", "errors"]
    lv = {"concurrency": 2, "output_tokens_per_s": 40.0, "ttft_ms": {"mean": 100.0}, "tpot_ms": {"mean": 50.0}}
    assert list(probe_charts.levels_chart([lv]).data[0].y) == [40.0]
