#!/usr/bin/env bash
# One prepared GPU run (issue 12): the GPU tests, then every `gan-theory bench` suite on CUDA.
#
#   bash benchmarks/gpu_run.sh OUTPUT_DIR
#
# Runs from the repository with PYTHONPATH=. and the machine's python3 (3.12 with torch, numpy,
# scipy, matplotlib, tqdm, pytest, hypothesis, mpmath, sympy); installs nothing. Writes into
# OUTPUT_DIR: pytest_gpu.txt, the suites' JSON and PNG files, their logs, results.md (the README
# section) and env.txt. Each step has its own time limit, so the whole run stays under 8 minutes
# on one H100/H200 (limits: tests 150 s, throughput 180 s, convergence --quick 100 s,
# integrators --quick 40 s: 470 s at most); a step that fails or runs out of time is reported and the next
# one still runs. Exit status: 0 if every step succeeded, 1 otherwise.
set -u
if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: bash benchmarks/gpu_run.sh OUTPUT_DIR" >&2
    exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1" || exit 2
out="$(cd "$1" && pwd)"
cd "$repo" || exit 2
export PYTHONPATH=.
PY=${PYTHON:-python3}
status=0
start=$(date +%s)

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to OUTPUT_DIR/NAME.log
    local name=$1 limit=$2
    shift 2
    local t0=$(date +%s)
    echo "== $name (limit ${limit} s): $*"
    timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$out/$name.log"
    echo "== $name: exit $rc after $(( $(date +%s) - t0 )) s"
    [ $rc -eq 0 ] || status=1
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
    "$PY" -c "import torch, scipy, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available()); print('scipy', scipy.__version__, 'numpy', numpy.__version__)"
} > "$out/env.txt" 2>&1
cat "$out/env.txt"

step pytest_gpu 150 "$PY" -m pytest -m gpu -q -p no:cacheprovider -o addopts="" tests
cp "$out/pytest_gpu.log" "$out/pytest_gpu.txt" 2>/dev/null
step bench_throughput 180 "$PY" -m gan_theory bench --suite throughput --device cuda --out "$out"
step bench_convergence 100 "$PY" -m gan_theory bench --suite convergence --device cuda --quick --out "$out"
step bench_integrators 40 "$PY" -m gan_theory bench --suite integrators --device cuda --quick --out "$out"
"$PY" -m gan_theory.bench.report "$out"/*_cuda.json > "$out/results.md" 2>/dev/null || status=1

echo "gpu_run: $(( $(date +%s) - start )) s in all, results in $out (exit $status)"
exit $status
