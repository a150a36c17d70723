"""A deployment resolved once: what memory, speed and cost read about a model on a GPU configuration.

`resolve(scenario)` keeps the parts of a Scenario that do not depend on the workload (model, GPU,
parallel layout, engine with its tuned constants, formats, engine caps) and derives, once and on first
use, the figures every stage reads: weights by tensor class and per GPU, KV and state bytes per token
and per sequence, engine overheads, effective bandwidth and FLOP rates, the communication topology.
Equal layouts share one Deployment across a sweep (recommend, charts), whatever the workload.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import memory, speed
from .constants import Constants, load
from .engines import EngineProfile, profile
from .precision import FORMATS, WeightFormat, effective_format
from .scenario import Scenario
from .schemas import GpuSpec, ModelSpec
from .units import GIB, US

_CACHE: dict[tuple, Deployment] = {}
_SHARED: dict[tuple, tuple] = {}  # figures that only depend on part of a layout, shared between deployments
_CACHE_MAX = 20_000


@dataclass(frozen=True, eq=False)
class Deployment:
    model: ModelSpec
    gpu: GpuSpec
    engine: EngineProfile             # rules plus tuned constants
    constants: Constants
    gpus: int
    tp: int
    pp: int
    ep: int
    dp: int                           # attention data-parallel replicas (gpus = tp * pp * dp)
    weight_format: str
    kv_dtype: str
    state_dtype: str
    spec_tokens: int
    acceptance_length: float | None
    cpu_offload_experts: int
    gpu_memory_utilization: float | None
    max_num_seqs: int                 # the engine's running-request cap per replica
    max_num_batched_tokens: int       # tokens per step (chunked prefill budget)

    @cached_property
    def fmt(self) -> WeightFormat:
        return effective_format(self.model, FORMATS[self.weight_format])

    @cached_property
    def class_bytes(self) -> dict[str, float]:
        return self._shared(memory.class_bytes_of, self.weight_format)

    @cached_property
    def weights(self) -> memory.Weights:
        return self._shared(memory.weights, self.weight_format, self.tp, self.pp, self.ep, self.gpus, self.spec_tokens,
                            self.cpu_offload_experts)

    @cached_property
    def kv_layers(self) -> tuple[memory.KvGroup, ...]:
        return self._shared(memory.kv_groups, self.kv_dtype, self.tp)

    @cached_property
    def kv_bytes_per_token(self) -> float:
        return memory.kv_bytes_per_token(self)

    @cached_property
    def kv_bytes_per_token_per_gpu(self) -> float:
        return memory.kv_bytes_per_token(self, per_gpu=True)

    @cached_property
    def state_bytes_per_sequence(self) -> float:
        return memory.state_bytes_per_sequence(self)

    @cached_property
    def state_bytes_per_sequence_per_gpu(self) -> float:
        return memory.state_bytes_per_sequence(self, per_gpu=True)

    @cached_property
    def pages(self) -> memory.HybridPages | None:
        return memory.hybrid_pages(self)

    @cached_property
    def overheads(self) -> tuple[float, float, float]:
        return memory.overheads(self)

    @cached_property
    def memory_fraction(self) -> float:
        if self.gpu_memory_utilization is not None:
            return self.gpu_memory_utilization
        return self.engine.memory_fraction(self.tp)

    @property
    def limit_bytes(self) -> float:
        return self.gpu.memory_gib_usable * GIB

    @cached_property
    def dense(self) -> tuple[float, float]:
        return self._shared(speed.dense_per_gpu, self.weight_format, self.tp, self.pp)

    def _shared(self, compute, *key):
        """compute(self), shared with every deployment of the same model whose `key` fields are equal (a
        sweep over GPUs and engines re-shards the same checkpoint only once per format and layout)."""
        k = (compute.__qualname__, id(self.model), *key)
        hit = _SHARED.get(k)
        if hit is not None and hit[0] is self.model:  # id() of a collected spec can be reused: check identity
            return hit[1]
        value = compute(self)
        if len(_SHARED) >= _CACHE_MAX:
            _SHARED.clear()
        _SHARED[k] = (self.model, value)
        return value

    @cached_property
    def rates(self) -> speed.Rates:
        return speed.rates(self)

    @cached_property
    def communication_terms(self) -> speed.Collectives:
        return speed.communication_terms(self)

    @cached_property
    def layers_fixed_s(self) -> float:
        """Launches and small kernels of one pass through this GPU's layers; the shortest kernels are
        shorter on some GPU generations (`generation_fixed`)."""
        m, c = self.model, self.constants
        floor = c.get(f"generation_fixed.{self.gpu.generation}", 1.0)
        return floor * (m.num_layers * self.engine.layer_overhead_us + m.moe_layers * c["moe_layer_overhead_us"]
                        + self.gemm_kernels * c["gemm_launch_us"]) / self.pp * US

    @cached_property
    def gemm_kernels(self) -> int:
        """GEMM kernels of one pass through the model's layers (`speed.gemm_launches`)."""
        return speed.gemm_launches(self.model)

    @cached_property
    def prefill_launch_s(self) -> float:
        """CPU time to launch one pass of a prefill through this GPU's layers, for engines that run their
        prefill outside CUDA graphs (`prefill_launch_us` per GEMM with the kernels around it)."""
        return self.engine.prefill_launch_us * self.gemm_kernels / self.pp * US

    @cached_property
    def attention_terms(self) -> tuple[float, tuple[tuple[float, int | None], ...]]:
        return speed.attention_terms(self)

    @cached_property
    def expert_terms(self) -> tuple[int, int, float, float]:
        return speed.expert_terms(self)


def _key(s: Scenario, constants: Constants) -> tuple:
    return (id(s.model_spec), s.gpu, s.gpus, s.tp_degree, s.pp_degree, s.ep_degree, s.engine, s.weight_format,
            s.kv_dtype, s.state_dtype, s.spec_tokens, s.acceptance_length, s.cpu_offload_experts,
            s.gpu_memory_utilization, s.max_num_seqs, s.max_num_batched_tokens, constants)


def resolve(s: Scenario, constants: Constants | None = None) -> Deployment:
    """The deployment of `s` (shared by every scenario with the same layout and constants)."""
    constants = constants or load()
    key = _key(s, constants)
    d = _CACHE.get(key)
    if d is not None and d.model is s.model_spec:  # id() of a collected spec can be reused: check identity
        return d
    gpu = s.gpu_spec
    engine = profile(s.engine, constants, gpu.generation)
    d = Deployment(model=s.model_spec, gpu=gpu, engine=engine, constants=constants, gpus=s.gpus, tp=s.tp_degree,
                   pp=s.pp_degree, ep=s.ep_degree, dp=s.dp_degree, weight_format=s.weight_format,
                   kv_dtype=s.kv_dtype, state_dtype=s.state_dtype, spec_tokens=s.spec_tokens,
                   acceptance_length=s.acceptance_length, cpu_offload_experts=s.cpu_offload_experts,
                   gpu_memory_utilization=s.gpu_memory_utilization,
                   max_num_seqs=s.max_num_seqs or engine.max_num_seqs(gpu),
                   max_num_batched_tokens=s.max_num_batched_tokens or engine.max_num_batched_tokens(gpu))
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = d
    return d
