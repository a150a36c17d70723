"""Help texts shown next to every figure: how it was computed and which metric definition it uses.

Definitions follow shared/DESIGN.md §3 (TTFT, TPOT, ITL, tokens/s) and the units convention
(GB = 1e9 bytes, GiB = 2^30 bytes, TB/s = 1e12 bytes/s, TFLOPS dense unless marked sparse).
"""

TTFT = ("Time to first token: request sent -> first non-empty token. Predicted as the engine's fixed "
        "per-request overhead + the prompt's chunked prefill (compute-bound) + waiting for running decode steps.")
TPOT = ("Time per output token = (end-to-end latency - TTFT) / (output tokens - 1). Predicted from one decode step: "
        "bytes read (weights, experts the batch touches, KV cache, state) / memory bandwidth + communication + fixed costs.")
PER_USER = "Tokens per second one user sees while streaming = 1 / TPOT."
AGGREGATE = "Output tokens per second over all requests in flight = concurrency x output_len / end-to-end latency."
USD_OUT = ("Dollars per million output tokens = the decode share of a request's GPU time (GPUs x \\$/GPU-hour / requests "
           "per hour, minus the prompt's prefill time) per million output tokens, at this concurrency. Like an API's two "
           "prices, input tokens x \\$/M input + output tokens x \\$/M output = \\$ per request.")
USD_IN = ("Dollars per million input (prompt) tokens = the prefill share of a request's GPU time (prompt tokens / prefill "
          "tokens/s) per million input tokens; it adds to the output price, it is not a second charge.")
MAX_CONC = ("Requests of input_len + output_len tokens whose KV cache and state fit in the engine's pool at once "
            "(capped by the engine's running-request limit, e.g. vLLM max_num_seqs).")
MEMORY = ("Per GPU, as the engine plans it: weights (after tensor/pipeline sharding), the KV cache pool the engine "
          "pre-allocates (for hybrid models also the linear-attention state pages), peak activations, and the CUDA "
          "context, communication buffers and CUDA graphs. Capacity is what torch can allocate, in GiB.")
CONTEXT = ("Weights + activations + overhead + the pages the running requests hold at each context length "
           "(KV cache grows per token; linear-attention state is fixed per request). Red crosses: the requests "
           "no longer fit in the engine's KV pool.")
CONCURRENCY = ("planner.estimate at each closed-loop concurrency (N requests always in flight). Aggregate output "
               "tokens/s rises with batching while TPOT grows; the dashed line is the TPOT target from the Compare page.")
UNITS = """
- **GB vs GiB**: GB = 10^9 bytes (datasheets, checkpoint files); GiB = 2^30 bytes = 1.074 GB (what vLLM, torch and
  nvidia-smi report). An "80 GB" H100 shows about 79.1 GiB to torch.
- **Dense vs sparse TFLOPS**: NVIDIA datasheets often print "with sparsity" figures (2:4 structured sparsity),
  twice the dense rate. LLM inference runs dense GEMMs, so the planner uses dense TFLOPS (H100 SXM: 989 BF16).
- **TTFT** = request sent -> first token; **TPOT** = (e2e - TTFT) / (output tokens - 1); **ITL** = gaps between
  streamed chunks; **output tokens/s** = all output tokens / wall time; **per-user tokens/s** = 1 / TPOT.
- **Concurrency** is closed loop: N requests always in flight. `max` = as many as memory and the engine admit.
"""
