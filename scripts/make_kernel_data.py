#!/usr/bin/env python3
"""make_kernel_data.py -- writes replay/kernel_data.c, the measured GEMM and attention kernel times
the kernel-table cost model interpolates (replay/cost_kernels.c, `cost: {model: kernels}`), from the
kernel tables of ../shared/kernels (NVIDIA AIConfigurator, see its SOURCES.md).

  python3 scripts/make_kernel_data.py ../shared/kernels > replay/kernel_data.c

Kept, per system (vLLM's newest version folder with data, as SOURCES.md chose it):
  gemm                  bf16 and per-tensor fp8 (W8A8) rows on the grid M x N x K below (a subset of the
                        measured grid: the N/K values >= 512, the power-of-two M values the system has)
  context_attention     head_dim 128, full attention (window 0), bf16/fp8 KV, the per-GPU head pairs
                        of PAIRS, batch x isl
  generation_attention  the same keys, batch x KV length (step + 1)
Holes of a kept grid are filled and counted in the output: a GEMM cell from its M neighbours
(geometric mean), an attention cell in proportion to the batch from the largest measured batch at
the same length (attention of b sequences costs b times one at these sizes). Values in microseconds,
4 significant digits (the tables' own noise is several percent, SOURCES.md "Integrity").
"""
import csv, gzip, math, os, sys

SYSTEMS = [  # (name in the catalog's kernel_tables key, folder, gemm file, attention version)
    ("h100_sxm", "gemm_vllm_0.24.0", "0.24.0"),
    ("h200_sxm", "gemm_vllm_0.24.0", "0.24.0"),
    ("b200_sxm", "gemm_vllm_0.24.0", "0.24.0"),
    ("a100_sxm", "gemm_vllm_0.14.0", "0.14.0"),
    ("l40s", "gemm_vllm_0.24.0", "0.24.0"),
]
M = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
N = [512, 1024, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 16384, 65536]
K = [512, 1024, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 16384]
DTYPES = [("bfloat16", "bf16"), ("fp8", "fp8")]
# per-GPU (query heads, KV heads) of the catalog's head_dim-128 GQA models with 8 KV heads and 32, 64 or
# 128 query heads (Llama 3.x 8B/70B/405B, Qwen3 8B/32B, Mixtral) at TP 1, 2, 4, 8 (KV heads replicated
# below one per GPU); other shapes fall back to the roofline's attention
PAIRS = [(32, 8), (16, 4), (8, 2), (4, 1), (64, 8), (32, 4), (16, 2), (8, 1), (64, 4), (32, 2), (16, 1)]
KV = [("bfloat16", "bf16"), ("fp8", "fp8")]


def rows(path):
    return csv.DictReader(gzip.open(path, "rt"))


def fmt(v):
    return "%.4g" % v


def gemm_tables(root, name, gfile):
    d = {}
    for r in rows(os.path.join(root, name, gfile + ".csv.gz")):
        key = (r["gemm_dtype"], int(r["m"]), int(r["n"]), int(r["k"]))
        d.setdefault(key, float(r["latency"]) * 1e3)  # first row wins, as in AIC
    out = []
    for dt, short in DTYPES:
        ms = [m for m in M if sum((dt, m, n, k) in d for n in N for k in K) > len(N) * len(K) // 2]
        if len(ms) < 2:
            continue
        vals, filled = [], 0
        for i, m in enumerate(ms):
            for n in N:
                for k in K:
                    v = d.get((dt, m, n, k))
                    if v is None:
                        lo = d.get((dt, ms[i - 1], n, k)) if i > 0 else None
                        hi = d.get((dt, ms[i + 1], n, k)) if i + 1 < len(ms) else None
                        if lo is None and hi is None:
                            raise SystemExit(f"{name} gemm {dt} m={m} n={n} k={k}: no neighbour to fill from")
                        v = math.sqrt(lo * hi) if lo is not None and hi is not None else (lo or hi)
                        filled += 1
                    vals.append(v)
        out.append((short, ms, vals, filled))
    return out


def attn_tables(root, name, ver):
    out = []
    for phase, fn in (("context", "context_attention"), ("generation", "generation_attention")):
        path = os.path.join(root, name, f"{fn}_vllm_{ver}.csv.gz")
        d = {}
        for r in rows(path):
            if r["head_dim"] != "128" or r.get("window_size", "0") != "0":
                continue
            s = int(r["isl"]) if phase == "context" else int(r["step"]) + 1
            key = (int(r["num_heads"]), int(r["num_key_value_heads"]), r["kv_cache_dtype"], int(r["batch_size"]), s)
            d.setdefault(key, float(r["latency"]) * 1e3)
        for h, kvh in PAIRS:
            for kvd, short in KV:
                pts = {(b, s): v for (hh, kk, dd, b, s), v in d.items() if (hh, kk, dd) == (h, kvh, kvd)}
                if not pts:
                    continue
                bs = sorted({b for b, _ in pts})
                ss = sorted({s for _, s in pts})
                vals, filled = [], 0
                for b in bs:
                    for s in ss:
                        v = pts.get((b, s))
                        if v is None:
                            known = [bb for bb in bs if (bb, s) in pts and bb < b]
                            if not known:
                                raise SystemExit(f"{name} {phase} {h}/{kvh} {kvd} b={b} s={s}: nothing to fill from")
                            v = pts[(known[-1], s)] * b / known[-1]
                            filled += 1
                        vals.append(v)
                out.append((phase, h, kvh, short, bs, ss, vals, filled, f"{name}/{fn}_vllm_{ver}.csv.gz"))
    return out


def main(root):
    w = sys.stdout.write
    w("/* kernel_data.c -- GENERATED by scripts/make_kernel_data.py from ../shared/kernels; do not edit.\n"
      " *\n"
      " * Measured GPU time of one vLLM GEMM (Y[m,n] = X[m,k] W[n,k]^T) and of one attention layer (prefill:\n"
      " * batch x isl fresh tokens; decode: batch x KV length), microseconds, per system (docs/FIDELITY.md,\n"
      " * \"Kernel-table cost model\"). Filled holes are counted per table.\n"
      " *\n"
      " * Data derived from NVIDIA AIConfigurator (https://github.com/ai-dynamo/aiconfigurator, commit 095f58a5),\n"
      " * Copyright (c) 2025-2026 NVIDIA CORPORATION & AFFILIATES, licensed under the Apache License 2.0\n"
      " * (see ../shared/kernels/LICENSE.Apache-2.0). Modified: converted from Parquet to gzip-compressed CSV;\n"
      " * a subset of systems/ops/versions was selected; here further reduced to the grids named in\n"
      " * scripts/make_kernel_data.py, converted to microseconds and printed with 4 significant digits.\n"
      " */\n"
      "#include \"cost_kernels.h\"\n\n")
    w("static const float gemm_n[] = {%s};\n" % ", ".join(map(str, N)))
    w("static const float gemm_k[] = {%s};\n\n" % ", ".join(map(str, K)))
    gemms, attns = [], []
    for name, gfile, ver in SYSTEMS:
        for short, ms, vals, filled in gemm_tables(root, name, gfile):
            ident = f"g_{name}_{short}"
            w(f"static const float {ident}_m[] = {{{', '.join(map(str, ms))}}};\n")
            w(f"static const float {ident}_us[] = {{{', '.join(fmt(v) for v in vals)}}};\n")
            gemms.append((name, short, ident, len(ms), filled, f"{name}/{gfile}.csv.gz"))
        for phase, h, kvh, short, bs, ss, vals, filled, src in attn_tables(root, name, ver):
            ident = f"a_{name}_{phase[0]}_{h}_{kvh}_{short}"
            w(f"static const float {ident}_b[] = {{{', '.join(map(str, bs))}}};\n")
            w(f"static const float {ident}_s[] = {{{', '.join(map(str, ss))}}};\n")
            w(f"static const float {ident}_us[] = {{{', '.join(fmt(v) for v in vals)}}};\n")
            attns.append((name, phase, h, kvh, short, ident, len(bs), len(ss), filled, src))
    w("\nconst ls_gemm_table ls_gemm_tables[] = {\n")
    for name, short, ident, nm, filled, src in gemms:
        w(f"    {{\"{name}\", \"{short}\", {nm}, {len(N)}, {len(K)}, {ident}_m, gemm_n, gemm_k, {ident}_us}},"
          f" /* {src}, {filled} filled */\n")
    w("};\nconst int ls_gemm_n_tables = (int)(sizeof ls_gemm_tables / sizeof ls_gemm_tables[0]);\n\n")
    w("const ls_attn_table ls_attn_tables[] = {\n")
    for name, phase, h, kvh, short, ident, nb, ns, filled, src in attns:
        ph = "LS_ATTN_PREFILL" if phase == "context" else "LS_ATTN_DECODE"
        w(f"    {{\"{name}\", {ph}, {h}, {kvh}, 128, \"{short}\", {nb}, {ns}, {ident}_b, {ident}_s, {ident}_us}},"
          f" /* {src}, {filled} filled */\n")
    w("};\nconst int ls_attn_n_tables = (int)(sizeof ls_attn_tables / sizeof ls_attn_tables[0]);\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/kernels")
