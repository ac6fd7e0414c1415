#!/bin/sh
# Regenerates the diagrams shown in docs/explorer.md from the models themselves.
# Run from anywhere: COWSPEC=.venv/bin/cowspec docs/images/explorer/generate.sh
# The output is deterministic: rerunning it on an unchanged tree changes no file.
set -eu
cd "$(dirname "$0")/../../.."
COWSPEC=${COWSPEC:-cowspec}
OUT=docs/images/explorer
TOYS=tests/pymodels/toys.py

"$COWSPEC" graph spec/examples/tcommit.cow -o "$OUT/tcommit-states.svg"
"$COWSPEC" graph spec/examples/diehard.cow --trace NotSolved -o "$OUT/diehard-trace.svg"
"$COWSPEC" graph "$TOYS" --model pages -o "$OUT/pages-states.svg"
"$COWSPEC" graph "$TOYS" --model pages --view page -o "$OUT/pages-view.svg"
"$COWSPEC" compare "$TOYS" --model pages --model pages-noshare --view page \
    -o "$OUT/pages-compare.svg" > /dev/null
