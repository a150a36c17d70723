"""One entry point for the CLI and the page: a file, a folder or a hub id -> ImportResult."""
from __future__ import annotations

from pathlib import Path

from .config import ImportResult, ModelImportError, import_config
from .gguf import import_gguf, import_gguf_bytes
from .hub import import_hf, looks_like_repo_id
from .safetensors import local_checkpoint

MAX_UPLOAD_BYTES = 32 * 2**20  # a GGUF header (vocabulary included) fits in < 16 MiB; configs in < 1 MiB


def import_upload(name: str, data: bytes) -> ImportResult:
    """An uploaded file: a GGUF (whole or its first bytes) or a config.json."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ModelImportError(f"{name} is {len(data) / 1e6:.1f} MB; uploads are capped at {MAX_UPLOAD_BYTES / 2**20:.0f} MiB "
                               "(for a GGUF, upload its header: head -c 16M model.gguf > header.gguf)")
    if data[:4] == b"GGUF" or name.lower().endswith(".gguf"):
        return import_gguf_bytes(data, name, file_size=len(data))
    result = import_config(data)
    return result.model_copy(update={"source": name})


def _import_folder(folder: Path) -> ImportResult:
    if not (folder / "config.json").is_file():
        ggufs = sorted(folder.glob("*.gguf"))
        if ggufs:
            return import_gguf(ggufs[0])
        raise ModelImportError(f"{folder} has no config.json and no .gguf file")
    result = import_config(folder / "config.json", model_id=folder.name)
    sizes = local_checkpoint(folder)
    if not sizes:
        return result
    return ImportResult(**{**dict(result), "weights_bytes_exact": sizes["bytes"], "bytes_by_dtype": sizes["by_dtype"],
                                     "tensor_count": sizes["count"], "weights_bytes_source": "local safetensors headers",
                                     "high_precision_modules": sizes["high_precision"]})


def import_source(source: str | Path, **hub_kwargs) -> ImportResult:
    """A local config.json / GGUF / checkpoint folder, or a Hugging Face id (fetched with requests)."""
    path = Path(source)
    if path.is_dir():
        return _import_folder(path)
    if path.is_file():
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic == b"GGUF" or path.suffix.lower() == ".gguf":
            return import_gguf(path)
        if path.suffix == ".safetensors":
            raise ModelImportError(f"{path.name} holds weights, not the architecture: import the folder with its config.json")
        return import_config(path)
    if looks_like_repo_id(str(source)):
        return import_hf(str(source), **hub_kwargs)
    raise ModelImportError(f"{source}: no such file, and not a Hugging Face id (owner/name)")
