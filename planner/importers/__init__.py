"""Model import: config.json, safetensors headers, GGUF header and hub fetch -> ModelSpec; `dispatch` is the one entry point."""
