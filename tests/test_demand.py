"""Demand sizing (issue 13): Little's law, M/G/c queueing, replicas that never fall as demand grows."""
import pytest

import planner
from planner.core.scenario import Scenario
from planner.search import demand

QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"
CONFIG = dict(model=QWEN_NEXT, gpu="h100-sxm", gpus=4, input_len=4000, output_len=500)


@pytest.fixture(scope="module")
def scenario():
    return Scenario(**CONFIG)


def test_erlang_c_matches_the_textbook_value():
    # 2 servers, offered load 1 Erlang: P(wait) = 1/3 (M/M/2, rho = 0.5)
    assert demand.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert demand.erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    assert demand.erlang_c(500, 100.0) < 1e-50 and demand.erlang_c(4, 4.0) == 1.0


def test_littles_law_holds_at_the_operating_point(scenario):
    z = demand.size(scenario, 3.0, ttft_ms_max=2000, tpot_ms_max=50)
    assert z.fits and z.replicas == 1
    assert z.concurrency_per_replica == pytest.approx(z.requests_per_s_per_replica * z.time_in_system_s)
    # the mean number served n runs at the closed-loop throughput X(n) = the arrival rate
    n = z.running_per_replica
    lo, hi = (planner.estimate(**CONFIG, concurrency=k).performance.request_throughput_per_s for k in (int(n), int(n) + 1))
    assert lo + (hi - lo) * (n - int(n)) == pytest.approx(3.0, rel=1e-6)


def test_replicas_never_fall_as_demand_grows(scenario):
    counts = [demand.size(scenario, r, ttft_ms_max=2000, tpot_ms_max=50).replicas for r in (0.5, 2, 5, 10, 20, 40, 80)]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] > 4


def test_replicas_meet_the_targets_with_headroom_stated(scenario):
    z = demand.size(scenario, 20.0, ttft_ms_max=2000, tpot_ms_max=50)
    cap = z.capacity_requests_per_s_per_replica
    assert z.replicas == -(-20.0 // cap) and z.gpus_total == 4 * z.replicas
    assert z.headroom == pytest.approx(z.replicas * cap / 20.0 - 1) and z.headroom >= 0
    assert z.ttft_ms <= 2000 and z.tpot_ms <= 50 and z.limited_by in ("TTFT target", "TPOT target", "memory slots")
    one_less = demand.size(scenario, cap * (z.replicas - 1) * 1.001, ttft_ms_max=2000, tpot_ms_max=50)
    assert one_less.replicas == z.replicas


def test_queueing_grows_near_saturation(scenario):
    loose = demand.size(scenario, 1.0)  # no targets: capacity is the memory slots
    assert loose.limited_by == "memory slots" and loose.slots_per_replica > 100
    points = [demand.size(scenario, loose.capacity_requests_per_s_per_replica * f) for f in (0.5, 0.9, 0.999, 0.99999)]
    assert [p.ttft_ms for p in points] == sorted(p.ttft_ms for p in points)
    assert points[0].p_wait < 1e-100 and points[-1].utilization > 0.99 and points[-1].p_wait > 0.5
    assert points[-1].queue_wait_ms > 1000  # Allen-Cunneen wait blows up as the slots fill


def test_a_target_missed_at_one_request_cannot_be_bought_with_replicas(scenario):
    z = demand.size(scenario, 1.0, tpot_ms_max=1.0)
    assert not z.fits and "TPOT" in z.reason and "more replicas cannot help" in z.reason


def test_tokens_per_day_with_a_peak_factor():
    assert demand.peak_requests_per_s(4000, 500, tokens_per_day=4500 * 86_400, peak_factor=3) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="requests_per_s"):
        demand.peak_requests_per_s(4000, 500)


def test_recommend_searches_by_demand():
    rec = planner.recommend(QWEN_NEXT, input_len=4000, output_len=500, ttft_ms_max=2000, tpot_ms_max=50,
                            requests_per_s=20, gpus=["h100-sxm", "h200-sxm"], engines=["vllm"], weights=["fp8"])
    best = rec.best
    assert rec.requests_per_s == 20 and best.replicas >= 1
    z = demand.size(Scenario(model=QWEN_NEXT, gpu=best.gpu, gpus=best.gpus, weights="fp8", input_len=4000,
                             output_len=500), 20, 2000, 50)
    assert best.replicas == z.replicas and best.usd_per_hour == pytest.approx(z.replicas * best.gpus * planner.estimate(
        model=QWEN_NEXT, gpu=best.gpu).cost.usd_per_gpu_hour)
    costs = [c.usd_per_request for c in rec.candidates if c.meets_targets]
    assert costs == sorted(costs) and best.usd_per_request == pytest.approx(best.usd_per_hour / 3600 / 20)
