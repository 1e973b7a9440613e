#!/usr/bin/env bash
# Whole-process runs of the release binary (docs/benchmarks.md): start-up, peak RSS for
# 1,000 and 10,000 generated pages, and `scan fixtures/articles` beside vale or lychee
# when they are installed. Corpora are generated under target/bench-corpus/ (nothing is
# committed; about 0.9 GB for 10,000 HTML pages, reused by later runs).
#
#   bash benches/whole-process.sh            # 1,000 and 10,000 pages
#   PAGES="100 1000" bash benches/whole-process.sh
#   FORMATS=json bash benches/whole-process.sh   # output formats measured (json jsonl)
#   bash benches/whole-process.sh --smoke    # 20 pages: checks the script runs (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

pages_list=${PAGES:-"1000 10000"}
formats=${FORMATS:-"json jsonl"}
if [[ "${1:-}" == "--smoke" ]]; then
    pages_list=20
fi
corpus_root=target/bench-corpus
bin=target/release/promoscan

cargo build --release --quiet --bin promoscan --example corpus
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Seconds and peak RSS (KB) of one command, its output kept in $corpus_root/out.txt. Exit status 1 (findings)
# is expected; anything above it is a failure, unless ACCEPT_STATUS allows it (lychee
# exits 2 when links fail, which --offline makes them do).
measure() {
    local status=0
    /usr/bin/time -f "%e %M" -o "$corpus_root/time.txt" "$@" >"$corpus_root/out.txt" 2>"$corpus_root/stderr.txt" || status=$?
    if ((status > ${ACCEPT_STATUS:-1})); then
        echo "failed ($status): $*" >&2
        cat "$corpus_root/stderr.txt" >&2
        exit 1
    fi
    tail -n 1 "$corpus_root/time.txt"
}

mkdir -p "$corpus_root"
empty="$corpus_root/empty.md"
echo "# Nothing to see" >"$empty"
read -r seconds rss < <(measure "$bin" scan "$empty" --format json)
echo "start-up: scan of a one-line file: ${seconds} s, peak RSS $((rss / 1024)) MB"

for pages in $pages_list; do
    dir="$corpus_root/html-$pages"
    if [[ ! -f "$dir/.complete" ]]; then
        rm -rf "$dir"
        target/release/examples/corpus "$dir" "$pages" html >/dev/null
        touch "$dir/.complete"
    fi
    size=$(du -sm "$dir" | cut -f1)
    for format in $formats; do
        read -r seconds rss < <(measure "$bin" scan "$dir" --format "$format")
        findings=$(grep -c '"rule":' "$corpus_root/out.txt" || true)
        echo "scan $pages pages ($size MB HTML, $findings findings), --format $format: ${seconds} s, peak RSS $((rss / 1024)) MB"
    done
    if command -v lychee >/dev/null; then
        read -r seconds rss < <(ACCEPT_STATUS=2 measure lychee --offline "$dir")
        echo "lychee --offline $pages pages: ${seconds} s, peak RSS $((rss / 1024)) MB"
    fi
done

# Sanity comparison of whole-process cost on the bundled articles.
read -r seconds rss < <(measure "$bin" scan fixtures/articles --format json)
echo "promoscan scan fixtures/articles: ${seconds} s, peak RSS $((rss / 1024)) MB"
if command -v vale >/dev/null; then
    read -r seconds rss < <(ACCEPT_STATUS=2 measure vale fixtures/articles)
    echo "vale fixtures/articles: ${seconds} s, peak RSS $((rss / 1024)) MB"
else
    echo "vale: not installed, skipped"
fi
if command -v lychee >/dev/null; then
    read -r seconds rss < <(ACCEPT_STATUS=2 measure lychee --offline fixtures/articles)
    echo "lychee --offline fixtures/articles: ${seconds} s, peak RSS $((rss / 1024)) MB"
else
    echo "lychee: not installed, skipped"
fi
