#!/usr/bin/env bash
# Train several recipes side by side on one lent GPU inside a fixed wall-clock window.
#
#   recipes/gpu-session.sh DATA_DIR OUT_DIR [BUDGET_S] [PLAN]
#
# PLAN `scratch` is the first window's (session 3): every recipe from its own start, eight runs
# side by side.  PLAN `continue` (the default) goes on from the shipped weights where the gaps
# to the papers are: VDSR (a fresh cosine of recipes/vdsr-fast-stage2.toml from vdsr.291) with
# only the cascaded SCN beside it (recipes/cscn.toml from cscn.291), because VDSR ran three times
# slower beside seven small runs than alone.  PLAN `vdsr-only` is `continue` without the
# cascade, VDSR having the GPU to itself (from session 13 the cascade gains too little per
# window to be worth VDSR's share).  PLAN `probe` only times VDSR's training step on the GPU
# (see below), a call of its own before the others.  PLAN `polish`, a second call on the same warm
# machine, gives VDSR alone what is left of the window: a cosine from 5e-5 from the best
# weights of `continue`'s (or `vdsr-only`'s) VDSR run (session 12 did this by hand: Set5 validation 34.010 ->
# 34.020 in 130 s).
#
# A lent GPU comes for minutes, not hours, so every run gets `superres train --time-budget`:
# it measures its own speed over its first steps (under the same sharing as the rest of the
# run) and lowers train.steps to what fits; its card records the count used.  The small
# models (SRCNN, SCN, LiteSR) leave the GPU mostly idle between kernel launches, so they run
# beside VDSR rather than after it.  Every run is also killed at a hard deadline, so the
# bundle is written even if something runs late: the best weights so far are already on disk
# (exported at every validation) with a checkpoint to resume from on the CPU.
#
# Output: OUT_DIR/runs-*.tar.gz (run folders: weights, cards, checkpoint, log.csv, plot.png)
# and OUT_DIR/session.log.  Unpack with `tar xzf FILE` in the repository root.
#
# The device tool sends the whole working tree (64 MiB at most) with the carried data
# (.gpudata: train/T91, train/BSD200, benchmark/Set5, 27 MB); since session 10 the committed
# run folders in checkpoints/ push that over the limit, and nothing here reads them, so move
# checkpoints/ out of the tree for the call and back afterwards.
set -u
data_dir=${1:?data folder (train/ and benchmark/Set5)}
out_dir=${2:?output folder}
budget=${3:-440}
plan=${4:-continue}
root=$(cd "$(dirname "$0")/.." && pwd)
case $plan in # checked before anything starts: the device's minutes are counted
scratch) plan_runs="vdsr-fast srcnn-955-x2 srcnn-955-x3 srcnn-955-x4 litesr-small-x2-gpu litesr-small-x3-gpu litesr-small-x4-gpu scn-x2 cscn" ;;
continue) plan_runs="vdsr-continue cscn-continue" ;;
vdsr-only) plan_runs="vdsr-continue" ;;
probe) plan_runs="" ;;
polish)
    plan_runs="vdsr-polish"
    if [ ! -f "$root/runs/vdsr-continue/best.safetensors" ]; then
        echo "plan 'polish' goes on from runs/vdsr-continue/best.safetensors, which only a warm machine that ran 'continue' or 'vdsr-only' has" >&2
        exit 2
    fi
    ;;
*)
    echo "unknown plan '$plan' (scratch, continue, vdsr-only, polish or probe)" >&2
    exit 2
    ;;
esac
if [ "$plan" != probe ] && { [ ! -d "$data_dir/train" ] || [ ! -d "$data_dir/benchmark/Set5" ]; }; then
    echo "data folder '$data_dir' has no train/ or no benchmark/Set5 (see docs/gpu-window.md)" >&2
    exit 2
fi
for run in $plan_runs; do
    # a folder left by an earlier call would be resumed, or bundled as if this call had made it
    if [ -e "$root/runs/$run" ]; then
        echo "runs/$run exists from an earlier run: move it away first" >&2
        exit 2
    fi
done
# absolute before the cd below, so relative folders name what the caller meant
out_dir=$(mkdir -p "$out_dir" && cd "$out_dir" && pwd) || exit 2
[ "$plan" = probe ] || data_dir=$(cd "$data_dir" && pwd) || exit 2
cd "$root"
export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
export SUPERRES_CACHE=${SUPERRES_CACHE:-/tmp/superres-cache}
python=${PYTHON:-python3}
start=$(date +%s)
# prepared pairs (about 20 s) + the budget + the last validation and export
deadline=$((start + budget + 60))
log="$out_dir/session.log"
: >"$log"
failed="$out_dir/.failed" # one line per run that failed (written from the background runs too)
: >"$failed"

say() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$log"; }

# train RUN RECIPE BUDGET [--set k=v ...]: one run, killed (SIGINT, then SIGKILL) at the deadline
train() {
    local run=$1 recipe=$2 run_budget=$3
    shift 3
    local left=$((deadline - $(date +%s)))
    if [ "$left" -le 30 ]; then
        say "$run: skipped, ${left} s left"
        return 1
    fi
    say "$run: start ($recipe, budget ${run_budget} s, hard stop in ${left} s)"
    timeout -s INT -k 15 "$left" "$python" -m superres train "$recipe" --run-dir "runs/$run" \
        --data-dir "$data_dir" --quiet --time-budget "$run_budget" "$@" >"$out_dir/$run.log" 2>&1
    local rc=$?
    say "$run: exit $rc; $(grep -h 'train.steps =' "$out_dir/$run.log" | tail -1)"
    # 124: stopped at the deadline, its checkpoint saved (a result, though a cut one)
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
        echo "$run (exit $rc): $(tail -n 1 "$out_dir/$run.log")" >>"$failed"
    fi
    tail -n 3 "runs/$run/log.csv" 2>/dev/null | sed "s/^/    $run: /" | tee -a "$log"
    return $rc
}

if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$log"
fi
"$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$log"
if [ "$plan" = probe ]; then
    # VDSR's training step on this GPU at batch 128 and 256, with its first and last convolutions
    # in fp32 (as trained since session 13) and in bf16 (as before): session 13's VDSR ran 90
    # steps/s of 128 alone where session 12's ran 118, and the network differed only in that.
    # Its own call of about 40 s, first on the machine, so its answer can set VDSR_FP32_ENDS and
    # VDSR_BATCH for the training calls that follow at once.
    "$python" benchmarks/bench_training.py --device cuda --only vdsr --batch 128,256 --repeat 5 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    say "done"
    rm -f "$failed"
    exit "$rc"
fi

fast=(--set train.checkpoint_every=2000)
shipped=src/superres/weights/files
# VDSR_FP32_ENDS=0: train VDSR with bf16 rounding its first and last convolutions too, if the
# probe shows the fp32 ones cost the GPU much (the card then records fp32_ends = false)
vdsr_args=(--set train.workers=8 --set train.batch_size="${VDSR_BATCH:-128}")
if [ "${VDSR_FP32_ENDS:-1}" = 0 ]; then
    vdsr_args+=(--set "model.args={depth = 20, width = 64, fp32_ends = false}")
fi
case $plan in
scratch)
    train vdsr-fast recipes/vdsr-fast.toml "$budget" "${fast[@]}" --set train.batch_size=64 \
        --set train.steps=400000 --set train.val_every=2000 --set train.workers=3 &
    for s in 2 3 4; do
        train "srcnn-955-x$s" "recipes/srcnn-955-x$s.toml" "$budget" "${fast[@]}" \
            --set train.steps=400000 --set train.workers=2 &
        train "litesr-small-x$s-gpu" "recipes/litesr-small-x$s-gpu.toml" "$budget" &
    done
    # SCN x2 first, then the cascade starts from its best weights
    (
        half=$(((budget - 40) / 2))
        train scn-x2 recipes/scn-x2.toml "$half" "${fast[@]}" --set train.steps=400000 --set train.workers=2 &&
            train cscn recipes/cscn.toml "$((deadline - $(date +%s) - 90))" "${fast[@]}" \
                --set train.steps=400000 --set train.workers=2 --set schedule.warmup_steps=200
    ) &
    ;;
continue | vdsr-only)
    # batch 128 since session 12: VDSR at batch 64 kept the H100 at about 50 TFLOP/s (6000
    # samples/s), far under what it can do with 64-channel convolutions, and a patch costs the
    # data workers 40 us, so a larger batch puts more patches through the window.  Each window
    # takes a new seed (SEED, default 14) so it does not repeat an earlier window's batches.
    # VDSR_BATCH overrides the batch.  Session 13 tried 256 beside the cascade: 46.9 steps/s,
    # 12001 patches/s against 11000 at 128 (session 12), so 9% more patches for half the
    # optimiser steps (`python -m superres.training.summary checkpoints/vdsr-gpu-s12
    # checkpoints/vdsr-gpu-s13`); the default stays 128 until a window shows 256 gaining more.
    train vdsr-continue recipes/vdsr-fast-stage2.toml "$budget" --set "model.init_from=$shipped/vdsr.291.safetensors" \
        --set train.seed="${SEED:-14}" "${vdsr_args[@]}" &
    # `vdsr-only` leaves the GPU to VDSR: by session 13 a window moved the cascade by +0.006 to
    # +0.017 dB a cell and could not close its x2 gap that way, while VDSR was still 0.03 to
    # 0.12 dB short everywhere (the session-13 closing note of issue 5)
    if [ "$plan" = continue ]; then
        # beside VDSR the cascade ran at 74% of the speed it measured over its first steps (session
        # 10: 33494 steps in 475 s against 95.6 steps/s) and the deadline cut it at 87% of its
        # cosine, so it is fitted to four fifths of the budget
        # CSCN_FROM starts it from other weights than the shipped ones, e.g. session 22's
        # checkpoints/cscn-cpu-s22/best.safetensors (the better SCN x2 as its first SCN, docs/scn.md)
        train cscn-continue recipes/cscn.toml "$((budget * 4 / 5))" "${fast[@]}" \
            --set "model.init_from=${CSCN_FROM:-$shipped/cscn.291.safetensors}" \
            --set optim.lr=5e-5 --set schedule.warmup_steps=100 --set train.steps=400000 --set train.workers=2 \
            --set train.seed="$((${SEED:-14} + 3))" &
    fi
    ;;
polish)
    train vdsr-polish recipes/vdsr-fast-stage2.toml "$budget" --set model.init_from=runs/vdsr-continue/best.safetensors \
        --set optim.lr=5e-5 --set schedule.warmup_steps=200 --set train.seed="$((${SEED:-14} + 1))" "${vdsr_args[@]}"
    ;;
esac
wait
say "all runs ended"

bundle() { # bundle NAME RUN...: one archive per group, each well under the 16 MiB a file may have
    local name=$1
    shift
    local present=()
    for run in "$@"; do [ -d "runs/$run" ] && present+=("runs/$run"); done
    [ ${#present[@]} -gt 0 ] && tar czf "$out_dir/runs-$name.tar.gz" "${present[@]}"
}
if [ "$plan" = polish ]; then # the continue plan's runs went back with the first call
    bundle vdsr-polish vdsr-polish
else
    bundle vdsr vdsr-fast vdsr-continue
    bundle srcnn srcnn-955-x2 srcnn-955-x3 srcnn-955-x4
    bundle litesr litesr-small-x2-gpu litesr-small-x3-gpu litesr-small-x4-gpu
    bundle scn scn-x2 cscn cscn-continue
fi
cat "$out_dir"/*.log >"$out_dir/all-runs.txt" 2>/dev/null
rm -f "$out_dir"/vdsr-*.log "$out_dir"/srcnn-*.log "$out_dir"/litesr-*.log "$out_dir"/scn-x2.log "$out_dir"/cscn*.log
if [ -s "$failed" ]; then
    say "failed: $(tr '\n' ';' <"$failed")"
    rm -f "$failed"
    ls -la "$out_dir" | tee -a "$log"
    exit 1
fi
rm -f "$failed"
ls -la "$out_dir" | tee -a "$log"
say "done"
