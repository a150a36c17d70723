"""AppTest of the Probe page against the local fault-injecting server (no other network)."""
import time

from streamlit.testing.v1 import AppTest

import planner.probe.run  # noqa: F401 - AppTest puts app_pages/ on sys.path, where app_pages/planner.py would shadow the package
from ui import probe_charts

SECRET = "sk-page-secret-93b1"


def _run(at):
    at.run(timeout=30)
    assert not at.exception, at.exception
    return at


def _probe(at, url, levels="1,2"):
    at.text_input(key="probe_url").set_value(url)
    at.text_input(key="probe_key").set_value(SECRET)
    at.text_input(key="probe_levels").set_value(levels)
    at.number_input(key="probe_requests").set_value(2)
    at.number_input(key="probe_output_len").set_value(4)
    at.number_input(key="probe_input_len").set_value(64)
    _run(at)
    at.button(key="probe_run").click()
    _run(at)
    job = at.session_state["probe_job"]
    deadline = time.monotonic() + 20
    while job.running and time.monotonic() < deadline:
        time.sleep(0.1)
    _run(at)
    return _run(at)


def _page_text(at) -> str:
    parts = [e.value for kind in ("error", "warning", "caption", "markdown", "success", "info", "code") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_page_shows_its_widgets_and_probes_a_fake_server(fault_server):
    at = _run(AppTest.from_file("../app_pages/probe.py", default_timeout=30))
    labels = {w.label for w in at.text_input}
    assert {"Endpoint URL", "API key", "Concurrency levels"} <= labels
    _probe(at, f"{fault_server}/ok")
    assert at.session_state["probe_result"].levels[1].completed == 2
    assert SECRET not in str(dict(at.query_params)) and SECRET not in _page_text(at)
    assert at.query_params["levels"] in ("1,2", ["1,2"]) and at.query_params["v"] in ("1", ["1"])
    assert at.query_params["input_len"] in ("64", ["64"])  # the shared scenario keys, as on every page
    at.button(key="probe_calibrate").click()
    _run(at)
    assert at.session_state["probe_fit"].rms_log_error_after <= at.session_state["probe_fit"].rms_log_error_before
    assert any("Calibrated" in s.value for s in at.success)
    assert at.button(key="probe_to_planner").label.startswith("Re-predict in the Planner")


def test_a_run_where_every_request_fails_shows_an_error_and_offers_nothing(hostile_server):
    at = _run(AppTest.from_file("../app_pages/probe.py", default_timeout=30))
    _probe(at, f"{hostile_server}/echoline", levels="1")
    assert at.session_state["probe_result"].levels[0].completed == 0
    assert any("Every request failed" in e.value for e in at.error)
    keys = {b.key for b in at.button}
    assert "probe_calibrate" not in keys and not at.get("download_button")
    assert SECRET not in _page_text(at) and SECRET[:8] not in _page_text(at)


def test_bad_link_values_warn_like_every_page():
    at = AppTest.from_file("../app_pages/probe.py", default_timeout=30)
    at.query_params.update({"v": "1", "url": "http://x/?api_key=sk-1", "levels": "0,,9", "requests": "-3", "gpus": "9999",
                            "api": "chat"})
    _run(at)
    text = " ".join(w.value for w in at.warning).replace("\\", "")  # markdown-escaped
    assert all(f"{name}:" in text for name in ("url", "levels", "requests", "gpus")) and "sk-1" not in text
    assert at.text_input(key="probe_url").value == "http://127.0.0.1:8080"  # the default stands in


def test_old_probe_links_still_open():
    at = AppTest.from_file("../app_pages/probe.py", default_timeout=30)
    at.query_params.update({"url": "http://127.0.0.1:9000", "levels": "2,8", "n": "5", "il": "256", "ol": "32",
                            "api": "completions", "model": "served-name", "smodel": "Qwen/Qwen3-0.6B", "sgpus": "2"})
    _run(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.text_input(key="probe_url").value == "http://127.0.0.1:9000"
    assert at.text_input(key="probe_served").value == "served-name"
    assert (at.number_input(key="probe_requests").value, at.number_input(key="probe_input_len").value,
            at.number_input(key="probe_output_len").value, at.number_input(key="probe_gpus").value) == (5, 256, 32, 2)
    assert at.selectbox(key="probe_api").value == "completions"


def test_bad_url_is_one_line_not_a_traceback():
    at = _run(AppTest.from_file("../app_pages/probe.py", default_timeout=30))
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
