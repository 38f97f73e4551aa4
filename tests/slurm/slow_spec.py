#!/usr/bin/python3
"""slow_spec.py -- write the sweep specification of slurm_timelimit_resume: N configurations of one
workload size, N chosen so that the sweep takes about SECONDS of single-rank compute, given the compute
time of one configuration measured on this machine (wall_time_s of a one-configuration sweep).

  slow_spec.py OUT.yaml SECONDS [CALIBRATION.h5]
Without CALIBRATION.h5 it writes the one-configuration calibration spec."""
import sys

BASE = """name: {name}
seed: 5
base:
  model: llama-3-8b
  hardware: h100-sxm
  cluster: dgx-h100
  parallelism: tp1
  scheduler: {{policy: vllm-v1, max_num_seqs: 64, enable_chunked_prefill: true}}
  workload:
    arrival: {{process: poisson, rate: 40}}
    prompt_tokens: {{dist: lognormal, mean: 512, stddev: 256}}
    output_tokens: {{dist: lognormal, mean: 64, stddev: 32}}
    duration_s: 3000
grid:
  workload.arrival.rate: [{rates}]
"""


def main(out, seconds, calib=None):
    if calib is None:
        n, name = 1, "slurm-calibration"
    else:
        import h5py
        with h5py.File(calib, "r") as f:
            t = float(f["results"]["wall_time_s"][0])
        n = max(20, min(3000, int(float(seconds) / max(t, 1e-3)) + 1))
        name = "slurm-slow"
        print(f"one configuration takes {t:.3f} s here: {n} configurations for ~{seconds} s of compute")
    rates = ", ".join(f"{40 + 0.01 * i:.2f}" for i in range(n))
    with open(out, "w") as f:
        f.write(BASE.format(name=name, rates=rates))


if __name__ == "__main__":
    main(*sys.argv[1:])
