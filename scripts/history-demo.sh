#!/usr/bin/env bash
# docs/history.md's figure, reproduced: a quick benchmark subset at each of the last N commits
# of HEAD and at three commits of a throwaway branch whose first commit injects a slowdown into
# manual-gradient (one more gradient product per step: real work), each saved in pytest-benchmark's
# storage, then `linreg-bench history` over them. Nothing of the branch or worktree is kept.
#
#   scripts/history-demo.sh [N=9]        (OUT=/tmp/linreg-history-demo; ~25 s a commit and pass here)
set -euo pipefail
N=${1:-9}
OUT=${OUT:-/tmp/linreg-history-demo}
CASES=${CASES:-"d2l and cpu and float32 and not d2l-reference and (manual-gradient or manual-autograd or normal-equation or sklearn)"}
root=$(git rev-parse --show-toplevel)
cd "$root"
python=$(command -v python)
branch="history-demo-$$"
rm -rf "$OUT"
mkdir -p "$OUT"
head=$(git rev-parse HEAD)
git worktree add -q --detach "$OUT/tree" "$head"
cleanup() { git worktree remove --force "$OUT/tree" 2> /dev/null || true; git branch -q -D "$branch" 2> /dev/null || true; }
trap cleanup EXIT
(
  cd "$OUT/tree"
  git switch -q -c "$branch"
  sed -i 's|^\( *\)torch.mm(A_batch.T, r, out=grad)$|&\n\1torch.mm(A_batch.T, r, out=grad)  # injected: the product twice|' \
    impls/manual_gradient.py
  grep -q "injected: the product twice" impls/manual_gradient.py
  git -c user.name=demo -c user.email=demo@localhost commit -q -am "throwaway: inject a slowdown into manual-gradient"
  for i in 1 2; do
    echo "<!-- history demo $i -->" >> README.md
    git -c user.name=demo -c user.email=demo@localhost commit -q -am "throwaway: unrelated change $i"
  done
)
commits=$(git rev-list --reverse -n "$N" "$head"; git -C "$OUT/tree" rev-list --reverse "$head..$branch")
# Two passes, the second in reverse order: a shared machine drifts by several per cent over minutes,
# and one pass in commit order would turn that drift into a "step". Reversed, each commit's two runs
# straddle the sweep, a linear drift cancels in their mean, and the rest shows as run-to-run spread.
for pass in forward backward; do
  order=$commits
  [ "$pass" = backward ] && order=$(echo "$commits" | tac)
  for commit in $order; do
    git -C "$OUT/tree" checkout -q --detach "$commit"
    echo "== $pass $(git -C "$OUT/tree" log -1 --format='%h %s' | cut -c1-90)" >&2
    (cd "$OUT/tree" && PYTHONPATH="$OUT/tree" "$python" -m pytest tests/benchmarks/test_fit.py --benchmark-only -q \
      -p no:cacheprovider -k "$CASES" --benchmark-storage="$OUT/benchmarks" --benchmark-save="${commit:0:10}-$pass" \
      --benchmark-save-data > "$OUT/pytest-${commit:0:10}-$pass.log" 2>&1) || echo "   (failed at $commit; see its log)" >&2
  done
done
linreg-bench history "$OUT/benchmarks" --repo "$OUT/tree" --rev "$branch" --out "$OUT/history"
