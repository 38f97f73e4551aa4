#!/usr/bin/python3
"""big_results.py TEMPLATE.h5 OUT.h5 N -- a synthetic result file of N configurations.

The layout (the /configs and /results column types, the root attributes) is copied from
TEMPLATE.h5, a file the real sweep wrote, so the file reads like one; the rows are made up:
2 models x 4 clusters x 10 strategies x N/400 max_num_seqs values x 5 arrival rates, with
latencies that grow with the rate, and capacity_rps on the first listing of each configuration
(as the sweep writes it). For the scale tests of `llmsweep plot` (issue 18.7)."""
import sys
import h5py
import numpy as np

tpl, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rates = [1.0, 2.0, 4.0, 8.0, 16.0]
models = [b"llama-3.1-8b", b"llama-3.1-70b"]
clusters = [b"dgx-h100", b"dgx-h200", b"gh200-quad", b"gh200-nvl32"]
strategies = [(b"tp1", 1), (b"tp2", 2), (b"tp4", 4), (b"tp8", 8), (b"dp2", 2), (b"dp4", 4),
              (b"tp2dp2", 4), (b"tp4pp2", 8), (b"pp2", 2), (b"tp2pp2", 4)]
per_seqs = len(models) * len(clusters) * len(strategies) * len(rates)
n_seqs = max(1, -(-n // per_seqs))
rng = np.random.default_rng(7)
with h5py.File(tpl, "r") as t:
    cdt, rdt = t["configs"].dtype, t["results"].dtype
    c0, r0 = t["configs"][0], t["results"][0]
    attrs = dict(t.attrs)
cfg = np.zeros(n, dtype=cdt)
res = np.zeros(n, dtype=rdt)
cfg[:] = c0
res[:] = r0
for name in rdt.names:  # every metric undefined unless set below
    if rdt[name].kind == "f":
        res[name] = np.nan
i = 0
# rate innermost: the listings of one configuration are consecutive, the first searches
for seqs in range(n_seqs):
    for m, model in enumerate(models):
        for cl in clusters:
            for s, g in strategies:
                cap = (8.0 if m == 0 else 1.5) * g ** 0.8 * (1 + 0.1 * rng.random())
                for k, rate in enumerate(rates):
                    if i == n:
                        break
                    cfg[i]["config_id"] = i
                    cfg[i]["model"], cfg[i]["cluster"], cfg[i]["parallelism"] = model, cl, s
                    cfg[i]["n_gpus"] = g
                    cfg[i]["max_num_seqs"] = 64 + seqs
                    cfg[i]["arrival_rate"] = rate
                    r = res[i]
                    r["config_id"] = i
                    r["config_hash"] = f"{i:016x}".encode()
                    cfg[i]["config_hash"] = r["config_hash"]
                    r["status"], r["message"] = b"ok", b""
                    load = rate / cap
                    r["ttft_p50_s"] = 0.1 * (1 + load)
                    r["ttft_p99_s"] = 0.3 * (1 + 4 * load ** 2)
                    r["tpot_p50_s"] = 0.01 * (1 + load)
                    r["tpot_p99_s"] = 0.02 * (1 + 2 * load)
                    r["e2e_p99_s"] = 5 * (1 + load)
                    r["success_rate"] = 1.0 if load < 1.5 else 0.9
                    r["throughput_rps"] = min(rate, cap * 1.2)
                    r["goodput_rps"] = rate if load <= 1 else cap / load
                    r["slo_attainment"] = 1.0 if load <= 1 else 1 / load
                    r["n_requests"] = int(rate * 60) + 1
                    r["n_completed"] = r["n_requests"]
                    r["n_gpus"] = g
                    r["capacity_rps"] = cap if k == 0 else np.nan
                    i += 1
with h5py.File(out, "w") as f:
    f.create_dataset("configs", data=cfg)
    f.create_dataset("results", data=res)
    for k, v in attrs.items():
        f.attrs[k] = v
    f.attrs["n_configs"] = n
print(f"{out}: {n} configurations")
