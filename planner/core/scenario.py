"""The one parameter list (STYLE rule 8): a validated, frozen Scenario.

Widgets, share URLs, the CLI and saved files all build a Scenario; every bad value raises a
pydantic ValidationError that names the field and what is allowed (shared/DESIGN.md §2).
"""
from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import catalog
from .compat import check_scenario
from .engines import ENGINE_IDS, rules
from .precision import FORMATS, KV_ALIASES, KV_BYTES, LLAMACPP_ONLY_KV
from .schemas import GpuSpec, ModelSpec

ENGINES = ENGINE_IDS
Engine = Literal[ENGINE_IDS]
MAX_TOKENS = 10_000_000


def _catalog_id(lookup, v) -> str:
    """The catalog's own id for `v` (case-insensitive), or the catalog's message listing the known ones."""
    try:
        return lookup(str(v)).id
    except KeyError as exc:
        raise ValueError(str(exc).strip('"')) from None


class Calibration(BaseModel):
    """Multipliers fitted by a probe of a real server (planner.probe.calibrate); 1.0 = uncalibrated."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    decode_time_factor: float = Field(1.0, gt=0.05, le=20)
    prefill_time_factor: float = Field(1.0, gt=0.05, le=20)
    ttft_overhead_ms: float | None = Field(None, ge=0, le=60_000)
    source: str = Field("", max_length=500)


class Scenario(BaseModel):
    """A deployment and a workload. Defaults follow shared/DESIGN.md §2."""
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)

    model: str | ModelSpec = Field(description="Hugging Face id of a catalog model, or an imported ModelSpec")
    gpu: str = Field("h100-sxm", description="id of data/gpus.csv")
    gpus: int = Field(1, ge=1, le=1024)
    tp: int | None = Field(None, ge=1, le=1024, description="tensor-parallel degree (default gpus / pp)")
    pp: int | None = Field(None, ge=1, le=256, description="pipeline-parallel degree (default 1)")
    ep: int | None = Field(None, ge=1, le=1024, description="expert-parallel degree (default 1: experts split by tp)")
    engine: Engine = "vllm"
    weights: str | None = Field(None, description="weight format (default: the checkpoint's own)")
    kv_dtype: str = "auto"
    input_len: int = Field(1024, ge=0, le=MAX_TOKENS)
    output_len: int = Field(256, ge=0, le=MAX_TOKENS)
    concurrency: int | Literal["max"] = 1
    gpu_memory_utilization: float | None = Field(None, gt=0.05, le=1.0)
    usd_per_gpu_hour: float | None = Field(None, ge=0, le=1000)
    spec_tokens: int = Field(0, ge=0, le=16, description="draft tokens per step (speculative decoding / MTP)")
    acceptance_length: float | None = Field(None, ge=1, le=17, description="mean accepted tokens per step")
    cpu_offload_experts: int = Field(0, ge=0, le=1000, description="MoE layers whose experts stay in CPU RAM")
    state_dtype: Literal["auto", "bf16", "fp32"] = "auto"
    arrivals: Literal["auto", "lockstep", "random"] = Field(
        "auto", description="lockstep: benchmark clients with equal lengths send their next prompts together; "
                            "random: lengths and arrivals vary, as real traffic; auto: the engine's own benchmark tool")
    num_prompts: int | None = Field(None, ge=1, le=10_000_000,
                                    description="requests a benchmark sends in all, the first `concurrency` of them "
                                                "at once (default 5 x concurrency, as serving recipes recommend)")
    max_num_seqs: int | None = Field(None, ge=1, le=100_000)
    max_num_batched_tokens: int | None = Field(None, ge=16, le=10_000_000)
    calibration: Calibration | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _known_model(cls, v):
        return v if isinstance(v, (ModelSpec, dict)) else _catalog_id(catalog.model, v)

    @field_validator("gpu", mode="before")
    @classmethod
    def _known_gpu(cls, v):
        return _catalog_id(catalog.gpu, v)

    @field_validator("weights", mode="before")
    @classmethod
    def _known_format(cls, v):
        if v is None:
            return v
        v = str(v).strip().lower()
        if v not in FORMATS:
            raise ValueError(f"unknown weight format {v!r}; allowed: {', '.join(FORMATS)}")
        return v

    @field_validator("kv_dtype", mode="before")
    @classmethod
    def _known_kv(cls, v):
        v = KV_ALIASES.get(str(v).strip().lower(), str(v).strip().lower())
        if v != "auto" and v not in KV_BYTES:
            raise ValueError(f"unknown kv_dtype {v!r}; allowed: auto, {', '.join(KV_BYTES)}, f16")
        return v

    @field_validator("concurrency", mode="before")
    @classmethod
    def _concurrency(cls, v):
        if isinstance(v, str) and v.strip().lower() == "max":
            return "max"
        if isinstance(v, float) and not v.is_integer():
            raise ValueError("concurrency must be a whole number of requests or 'max'")
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ValueError("concurrency must be a whole number from 1 to 100000, or 'max'") from None
        if not 1 <= n <= 100_000:
            raise ValueError("concurrency must be from 1 to 100000, or 'max'")
        return n

    @model_validator(mode="after")
    def _consistent(self):
        check_scenario(self)  # the engine/format/GPU rules live with their reasons
        return self

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy (unvalidated, as pydantic's); the resolved model and GPU travel only when the update keeps them."""
        copy = super().model_copy(update=update, deep=deep)
        for field, view in (("model", "model_spec"), ("gpu", "gpu_spec")):
            if update and field in update:
                copy.__dict__.pop(view, None)
        return copy

    # Resolved views -----------------------------------------------------------------------------
    @cached_property
    def model_spec(self) -> ModelSpec:
        return self.model if isinstance(self.model, ModelSpec) else catalog.model(self.model)

    @property
    def model_id(self) -> str:
        return self.model_spec.id

    @cached_property
    def gpu_spec(self) -> GpuSpec:
        return catalog.gpu(self.gpu)

    @property
    def weight_format(self) -> str:
        return self.weights or self.model_spec.default_weights

    @property
    def pp_degree(self) -> int:
        """Engines that place whole layers on each GPU (llama.cpp --split-mode layer, transformers
        device_map="auto") run them one after another, so their default is pp = gpus."""
        if self.pp:
            return self.pp
        return self.gpus if rules(self.engine).splits_layers_by_default and not self.tp else 1

    @property
    def arrival_pattern(self) -> str:
        return rules(self.engine).bench_arrivals if self.arrivals == "auto" else self.arrivals

    @property
    def tp_degree(self) -> int:
        return self.tp or max(1, self.gpus // self.pp_degree)

    @property
    def ep_degree(self) -> int:
        return self.ep or 1

    @property
    def dp_degree(self) -> int:
        """Attention data-parallel replicas (gpus = tp * pp * dp)."""
        return max(1, self.gpus // (self.tp_degree * self.pp_degree))

    @property
    def uses_llamacpp_kv(self) -> bool:
        return self.kv_dtype in LLAMACPP_ONLY_KV
