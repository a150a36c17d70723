"""AppTest of app_pages/report.py: the current scenario from a share link, a "Download PDF" button, no exceptions."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app_page import APP, open_page

SHARE = dict(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus="1", weights="bf16", concurrency="8", tpot_ms_max="20")


def _download_buttons(at):
    return list(at.get("download_button"))


def _open(query: dict) -> AppTest:
    """Through app.py like the other page tests (running app_pages/report.py alone would shadow `planner`)."""
    return open_page("app_pages/report.py", query, 60)


def test_report_page_offers_the_pdf_for_the_shared_scenario():
    at = _open(SHARE)
    assert not at.exception, [e.value for e in at.exception]
    buttons = _download_buttons(at)
    assert len(buttons) == 1 and buttons[0].proto.label == "Download PDF"
    assert at.sidebar.selectbox(key="report_gpu").value == "h100-sxm"
    assert at.sidebar.number_input(key="report_tpot_ms_max").value == 20
    assert at.query_params["model"] == "Qwen/Qwen3-8B" and at.query_params["tpot_ms_max"] == "20"
    assert not at.json  # nothing echoed by Streamlit magic


def test_report_page_assesses_the_link_by_default_and_keeps_its_choices_in_the_url():
    import planner
    from planner.report.wording import decision_line
    from ui.widgets import escape_md
    at = _open(dict(SHARE, tpot_ms_max="20"))
    assert not at.exception
    assert at.radio(key="report_report_on").value == "link"
    assert at.query_params["report_on"] == "link" and at.query_params["utilization"] == "1"
    s = planner.Scenario(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus=1, weights="bf16", concurrency=8)
    line = escape_md(decision_line(s, planner.estimate_scenario(s)))
    assert any(m.value == line for m in at.markdown)  # the preview of page 1: the same sentence as the PDF
    assert any("report_on=link" in c.value and c.value.startswith("http") for c in at.code)  # a copy-link box
    at.slider(key="report_utilization").set_value(0.5).run()
    at.radio(key="report_report_on").set_value("cheapest").run()
    assert not at.exception
    assert at.query_params["report_on"] == "cheapest" and at.query_params["utilization"] == "0.5"
    assert any(m.value.startswith("##### Recommended\\:") for m in at.markdown)
    again = _open(dict(at.query_params))  # the link reopens the same choice
    assert again.radio(key="report_report_on").value == "cheapest" and again.slider(key="report_utilization").value == 0.5


def test_report_page_pinned_mode_and_bad_scenario():
    at = _open(SHARE)
    assert not at.exception and len(_download_buttons(at)) == 1
    at.sidebar.selectbox(key="report_weights").set_value("gguf-q4_k_m").run()  # vLLM cannot load GGUF
    assert not at.exception
    assert at.error and "invalid" in at.error[0].value and not _download_buttons(at)


def test_report_page_is_in_the_navigation():
    assert 'st.Page("app_pages/report.py"' in Path(APP).read_text()
