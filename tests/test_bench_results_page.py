"""Probe page with an imported benchmark file (issue #14): ui/probe_upload.py's handling, then the page's own
comparison, calibration and hand-over to the Planner on that result. AppTest has no file-upload driver, so the
uploader is replaced by one returning the real fixture's bytes."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

import planner.probe.run  # noqa: F401 - AppTest puts app_pages/ on sys.path, where app_pages/planner.py would shadow the package
from planner.probe.bench_results import read_path

FIX = Path(__file__).resolve().parent / "fixtures" / "bench_results"


def _widget_app(path: str, price: float | None):
    import io
    from pathlib import Path

    import streamlit as st
    from ui import probe_upload

    class Upload(io.BytesIO):
        name, file_id = Path(path).name, "1"
        size = Path(path).stat().st_size

    st.file_uploader = lambda *a, **k: Upload(Path(path).read_bytes())
    probe_upload.bench_upload(price, 2)


def test_upload_widget_puts_the_imported_result_where_a_probe_run_goes():
    at = AppTest.from_function(_widget_app, args=(str(FIX / "guidellm_0.8.1_smollm2_concurrent.json"), 3.0),
                               default_timeout=30).run()
    assert not at.exception and not at.error
    result = at.session_state["probe_result"]
    assert result.source == "guidellm 0.8.1" and [lv.concurrency for lv in result.levels] == [1, 2, 4]
    assert result.levels[0].usd_per_million_output_tokens == 3.0 * 2 / (result.levels[0].output_tokens_per_s * 3600) * 1e6
    assert "Imported guidellm 0.8.1: 94 in / 32 out tokens per request (3 levels)" in at.caption[0].value


def test_a_hostile_upload_is_one_error_box(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"completed": 10, "duration": 5.78, "total_in')
    at = AppTest.from_function(_widget_app, args=(str(bad), None), default_timeout=30).run()
    assert not at.exception and len(at.error) == 1
    msg = at.error[0].value     # markdown-escaped: the file name and message are the file's, not ours
    assert msg.startswith("Not a benchmark result: bad") and "not valid JSON" in msg and "\n" not in msg
    assert "probe_result" not in at.session_state


def test_probe_page_compares_and_calibrates_an_imported_file():
    at = AppTest.from_file("../app_pages/probe.py", default_timeout=60)
    at.session_state["probe_result"] = read_path(FIX / "guidellm_0.8.1_smollm2_concurrent.json")[0]
    at.run()
    assert not at.exception
    assert any(s.value == "Predicted vs measured" for s in at.subheader)
    at.button(key="probe_calibrate").click().run()
    assert not at.exception
    assert any(s.value.startswith("Calibrated: decode x") for s in at.success)
    assert at.button(key="probe_to_planner") is not None
