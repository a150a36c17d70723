"""AppTest of app_pages/tco.py (issue 13): opened from a share link, its figures equal planner.search.demand's and the
published arithmetic (rent = GPUs x $/GPU-hour x 730 h, API = rate x seconds x tokens x price), the chart marks the
break-even demands, widget changes rewrite the link and the link reopens the same view, bad values warn once."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import planner
from planner.core import tco
from planner.search.demand import compare_options, cost_curves

from app_page import APP, open_page

QWEN = "Qwen/Qwen3-Next-80B-A3B-Instruct"
LINK = dict(model=QWEN, gpu="h100-sxm", gpus="4", weights="bf16", input_len="4000", output_len="500",
            ttft_ms_max="2000", tpot_ms_max="50", requests_per_s="2")


def _open(query: dict) -> AppTest:
    return open_page("app_pages/tco.py", query)


def _planner(requests_per_s=2.0, **prices):
    s = planner.Scenario(model=QWEN, gpu="h100-sxm", gpus=4, weights="bf16", input_len=4000, output_len=500)
    t = tco.TcoInputs(requests_per_s=requests_per_s, **prices)
    r = compare_options(s, t, 2000, 50)
    return r, cost_curves(r, s)


def _table(at, index: int) -> dict:
    df = at.dataframe[index].value
    return {row[df.columns[0]]: row for row in df.to_dict("records")}


def _figure(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_the_page_shows_the_planners_figures_for_the_linked_demand():
    at = _open(LINK)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning and not at.error
    r, curves = _planner()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Replicas"] == f"{r.replicas:,}" == "1"
    assert metrics["GPUs in total"] == "4"
    assert metrics["Requests in flight per replica"] == f"{r.concurrency_per_replica:,.1f}"
    assert metrics["Headroom"] == f"{r.sizing.headroom:.0%}"
    options = _table(at, 0)
    # the published arithmetic, not only the planner's own numbers
    assert options["Rent (cloud GPUs)"]["$ per month"] == f"${4 * 2.95 * 730:,.0f}" == "$8,614"
    assert options["API (pay per token)"]["$ per month"] == f"${2 * 730 * 3600 * (4000 * 0.15 + 500 * 1.5) / 1e6:,.0f}"
    assert options["API (pay per token)"]["$ per request"] == "$0.001350"
    assert options["Own (buy the GPUs)"]["$ per month"] == f"${r.own.usd_per_month:,.0f}"
    assert r.own.usd_per_month == pytest.approx(4 * 30_000 / 60 + 4 * 0.7 * 1.8 * 1.2 * 730 * 0.08)
    assert options["Own (buy the GPUs)"]["$ per request"] == f"${r.own.usd_per_request:,.6f}"
    assert "owning the GPUs" in at.success[0].value  # own is cheapest at 2 requests/s
    even = {row[""]: row["break-even"] for row in at.table[0].value.to_dict("records")}
    assert even["Rent = API"].startswith(f"{r.break_even_requests_per_s['rent_vs_api']:,.3g} requests/s")
    assert even["Own = API"].startswith(f"{r.break_even_requests_per_s['own_vs_api']:,.3g} requests/s")
    assumptions = {row["Assumption"]: row for row in at.table[2].value.to_dict("records")}
    assert assumptions["Own: purchase price per GPU"]["Source, date"].startswith("mid-2026, https://")
    assert "2026" in assumptions["API: price"]["Source, date"] and "2026" in assumptions["Own: PUE"]["Source, date"]


def test_the_chart_draws_the_planners_curves_and_marks_the_break_evens():
    at = _open(LINK)
    r, curves = _planner()
    traces = {t["name"]: t for t in _figure(at)["data"]}
    for name, label in (("rent", "Rent (cloud GPUs)"), ("own", "Own (buy the GPUs)"), ("api", "API (pay per token)")):
        assert traces[label]["y"] == pytest.approx(curves[name])
        assert traces[label]["x"] == pytest.approx(curves["requests_per_s"])
    for key, label in (("rent_vs_api", "rent = API"), ("own_vs_api", "own = API")):
        point = traces[f"break-even: {label}"]
        demand = r.break_even_requests_per_s[key]
        assert point["x"] == pytest.approx([demand])
        assert point["y"] == pytest.approx([demand * 730 * 3600 * 0.00135])  # where the API line crosses
    texts = [a["text"] for a in _figure(at)["layout"]["annotations"]]
    assert any(t.startswith("rent = API") for t in texts) and any(t.startswith("your demand") for t in texts)


def test_widget_changes_rewrite_the_link_and_the_link_reopens_the_same_view():
    at = _open(LINK)
    at.number_input(key="tco_requests_per_s").set_value(12.0).run()
    at.number_input(key="tco_api_usd_per_m_output").set_value(2.0).run()
    at.number_input(key="tco_capex_usd_per_gpu").set_value(25_000.0).run()
    at.number_input(key="tco_pue").set_value(1.4).run()
    assert not at.exception
    q = dict(at.query_params)
    assert (q["requests_per_s"], q["api_usd_per_m_output"], q["capex_usd_per_gpu"], q["pue"]) == ("12", "2", "25000", "1.4")
    r, _ = _planner(12.0, api_usd_per_m_output=2.0, capex_usd_per_gpu=25_000.0, pue=1.4)
    assert r.replicas == 2  # 12 requests/s is more than one replica's capacity
    first = (_table(at, 0), {m.label: m.value for m in at.metric})
    assert first[1]["Replicas"] == "2" and first[1]["GPUs in total"] == "8"
    assert first[0]["API (pay per token)"]["$ per month"] == f"${r.api.usd_per_month:,.0f}"
    assert first[0]["Own (buy the GPUs)"]["$ per month"] == f"${r.own.usd_per_month:,.0f}"
    share = next(c.value for c in at.code if c.value.startswith("http"))
    assert "/tco?" in share and "requests_per_s=12" in share and "pue=1.4" in share
    again = _open(q)
    assert not again.exception and not again.warning
    assert again.number_input(key="tco_requests_per_s").value == 12
    assert again.number_input(key="tco_capex_usd_per_gpu").value == 25_000
    assert (_table(again, 0), {m.label: m.value for m in again.metric}) == first


def test_bad_link_values_give_one_warning_and_keep_the_other_settings():
    at = _open(dict(LINK, pue="0.5", api_usd_per_m_input="-1", requests_per_s="nan", amortization_years="1e9", stray="x"))
    assert not at.exception
    assert len(at.warning) == 1
    text = at.warning[0].value
    for name in ("pue", "api\\_usd\\_per\\_m\\_input", "requests\\_per\\_s", "amortization\\_years", "stray"):
        assert name in text, name
    assert at.sidebar.selectbox(key="tco_gpu").value == "h100-sxm"  # the rest of the link still applies
    assert at.sidebar.number_input(key="tco_gpus").value == 4
    assert at.number_input(key="tco_pue").value is None
    assert at.number_input(key="tco_requests_per_s").value == 2  # the page's default demand, not the bad value
    assert _table(at, 0)["Rent (cloud GPUs)"]["$ per month"] == "$8,614"


def test_an_out_of_range_widget_value_is_an_error_naming_the_field():
    at = _open(LINK)
    at.number_input(key="tco_pue").set_value(0.5).run()
    assert not at.exception
    assert at.error and "pue" in at.error[0].value and not at.get("plotly_chart")
    assert at.sidebar.selectbox(key="tco_gpu").value == "h100-sxm"
    at.number_input(key="tco_pue").set_value(None).run()
    at.number_input(key="tco_requests_per_s").set_value(None).run()  # no demand: asked for, never guessed
    assert not at.exception and not at.error and not at.get("plotly_chart")
    assert "peak requests per second" in at.info[0].value


def test_the_page_is_in_the_navigation():
    assert 'st.Page("app_pages/tco.py"' in Path(APP).read_text()
