#!/usr/bin/env bash
# Renders deq's SVG plots to PNG for a look by eye (the tests check that the SVG is
# well-formed XML with one curve per RoI; this shows what a person sees).
# Needs rsvg-convert: apt-get install -y librsvg2-bin. Output in ./plots/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p plots
swift build -c release --product deq
deq=.build/release/deq
"$deq" analyze --quiet --plot plots/analyze.svg > plots/analyze.txt || true
"$deq" analyze --quiet --form eq5 --steps 20000 --plot plots/analyze-eq5.svg > plots/analyze-eq5.txt || true
"$deq" solve --quiet --spectral-every 1 --max-iterations 30 --plot plots/solve.svg > plots/solve.txt || true
"$deq" train --quiet --iterations 400 --validate-every 100 --spectral-every 100 --plot plots/train.svg > plots/train.txt || true
for svg in plots/*.svg; do rsvg-convert "$svg" -o "${svg%.svg}.png"; done
ls -l plots
