"""Rent, own or call an API (issue 13): the arithmetic of each option, break-even, purchase prices, honest $/request."""
import math

import pytest

import planner
from planner.core import tco
from planner.core.catalog import CatalogError

QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"


def test_input_and_output_prices_add_up_to_the_cost_of_a_request():
    # the old figures each charged the whole GPU-hour; the new halves add like an API's two prices
    e = planner.estimate(model=QWEN_NEXT, gpu="h100-sxm", gpus=4, input_len=4000, output_len=500, concurrency=64)
    c, p = e.cost, e.performance
    assert c.usd_per_request == pytest.approx(4 * 2.95 / 3600 / p.request_throughput_per_s)
    added = 4000 * c.usd_per_million_input_tokens / 1e6 + 500 * c.usd_per_million_output_tokens / 1e6
    assert added == pytest.approx(c.usd_per_request, rel=1e-12)
    assert c.usd_per_million_tokens_blended == pytest.approx(c.usd_per_request / 4500 * 1e6)
    assert c.usd_per_million_output_tokens_all_in == pytest.approx(11.8 / (p.output_tokens_per_s * 3600) * 1e6)
    # prefill share = the prompt's prefill time over the GPU time of a request
    assert c.prefill_share == pytest.approx(4000 / p.prefill_tokens_per_s * p.request_throughput_per_s)
    assert 0.05 < c.prefill_share < 0.5


def test_api_cost_is_rate_times_seconds_times_tokens_times_price():
    t = tco.TcoInputs(api_usd_per_m_input=0.15, api_usd_per_m_output=1.50)
    requests = tco.requests_per_month(2.0, 1.0)
    assert requests == 2.0 * 730 * 3600
    a = tco.api(4000, 500, t, requests)
    assert a.usd_per_month == pytest.approx(2.0 * 730 * 3600 * (4000 * 0.15 + 500 * 1.50) / 1e6)  # $7,095.60
    assert a.usd_per_month == pytest.approx(7095.6)
    assert a.usd_per_request == pytest.approx(0.00135)
    assert sum(a.parts.values()) == pytest.approx(a.usd_per_month)


def test_the_api_preset_is_the_published_qwen3_next_price():
    assert tco.API_PRESET == (0.15, 1.50)
    a = tco.api(1000, 1000, tco.TcoInputs(), 1.0)
    assert a.usd_per_request == pytest.approx((1000 * 0.15 + 1000 * 1.50) / 1e6)
    assert "0.15" in a.basis and "issue 13" in a.basis
    assert "user input" in tco.api(1, 1, tco.TcoInputs(api_usd_per_m_input=0.2), 1.0).basis


def test_a_peak_factor_prices_the_api_at_the_mean_demand():
    assert tco.requests_per_month(6.0, 3.0) == pytest.approx(2.0 * 730 * 3600)


def test_rent_is_gpus_times_price_times_730_hours():
    r = tco.rent(8, 2.95, 1e6, "catalog")
    assert r.usd_per_month == pytest.approx(8 * 2.95 * 730)  # $17,228
    assert r.usd_per_request == pytest.approx(8 * 2.95 * 730 / 1e6)


def test_own_is_amortization_plus_power_plus_hosting():
    t = tco.TcoInputs(amortization_years=4, usd_per_kwh=0.10, pue=1.3, server_overhead=1.5, hosting_usd_per_month=2000)
    o = tco.own(8, 1, 30_000, 700, t, 1e6, "test")
    assert o.parts["amortization"] == pytest.approx(8 * 30_000 / 48)                 # $5,000
    assert o.parts["power"] == pytest.approx(8 * 0.7 * 1.5 * 1.3 * 730 * 0.10)       # 10.92 kW -> $797.16
    assert o.parts["hosting"] == 2000
    assert o.usd_per_month == pytest.approx(5000 + 797.16 + 2000)


def test_own_defaults_are_the_cited_ones():
    o = tco.own(1, 1, 30_000, 700, tco.TcoInputs(), 1.0, "test")
    assert o.parts["amortization"] == pytest.approx(30_000 / 60)
    assert o.parts["power"] == pytest.approx(0.7 * 1.8 * 1.2 * 730 * 0.08)
    assert o.parts["hosting"] == 0


def test_break_even_is_where_one_replica_costs_what_the_api_charges():
    per_request = tco.api_usd_per_request(4000, 500, tco.TcoInputs())           # $0.00135
    demand = tco.break_even_requests_per_s(17_228.0, 10.0, per_request, 1.0)
    assert demand == pytest.approx(17_228.0 / (per_request * 730 * 3600))       # 4.86 requests/s
    api_there = tco.api(4000, 500, tco.TcoInputs(), tco.requests_per_month(demand, 1.0)).usd_per_month
    assert api_there == pytest.approx(17_228.0)
    # a full replica that still costs more than the API: no break-even
    assert tco.break_even_requests_per_s(17_228.0, 1.0, per_request, 1.0) is None


def test_monthly_curve_steps_by_whole_replicas():
    assert tco.monthly_curve([0, 1, 10, 10.5, 25], 10.0, 100.0) == [0.0, 100.0, 100.0, 200.0, 300.0]


def test_purchase_prices_are_dated_and_sourced():
    prices = tco.capex_catalog()
    assert prices["h100-sxm"].usd_per_gpu == 30_000 and prices["b200-hgx"].usd_per_gpu == 40_000
    assert all(c.source_url.startswith("https://") and c.source_date for c in prices.values())
    assert "h200-nvl" not in prices  # no sourced price: the user must give one
    server = tco.capex_from_row(dict(gpu_id="x", unit="server", price_usd="320000", gpus_per_unit="8", condition="new",
                                     source_date="2024-08", source_url="https://example.org", note=""))
    assert server.usd_per_gpu == 40_000
    with pytest.raises(CatalogError, match="gpu_capex.csv row 'x'"):
        tco.capex_from_row(dict(gpu_id="x", unit="rack", price_usd="1", source_date="2024", source_url="https://e.org"))


def test_inputs_are_bounded():
    with pytest.raises(ValueError, match="pue"):
        tco.TcoInputs(pue=0.5)
    with pytest.raises(ValueError, match="requests_per_s"):
        tco.TcoInputs(requests_per_s=-1)
    with pytest.raises(ValueError):
        tco.TcoInputs(usd_per_kwh=math.inf)
