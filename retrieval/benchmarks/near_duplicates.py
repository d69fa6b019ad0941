"""`python -m retrieval.benchmarks.near_duplicates`: how long a build's near-duplicate search takes, and its peak
memory, over growing numbers of passages of three kinds (prose-like text with some near copies, and two hostile
texts), each run in a child process of its own so that its peak is its own; a table (or JSON) out."""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys

SIZES = (1_000, 4_000, 16_000, 64_000)
LIMIT_SECONDS = 600.0  # a run past this is stopped and shown as such (the quadratic search took 247 s at 16k)
LIMIT_MB = 4096.0  # a run's address space; past it, it stops with MemoryError (the quadratic one took 3.1 GB at 16k)
PROSE_WORDS, PROSE_VOCABULARY, COPIED = 60, 20_000, 0.05  # 5% of prose paragraphs near-copy one in another source
TINY = ["ash", "birch", "cedar", "elm", "fir", "hazel", "oak", "pine", "rowan", "yew"]  # issue 27's 10-word text
KINDS = ("prose", "tiny-vocabulary", "alike")

# The child: build the passages, then time the search alone; its peak resident memory from the kernel.
CHILD = """
import json, resource, sys, time
from retrieval.benchmarks.near_duplicates import passages, rss_mb
from retrieval.ingest.dedupe import duplicate_groups
given = passages(sys.argv[1], int(sys.argv[2]))
before = rss_mb()
start = time.perf_counter()
groups = duplicate_groups(given)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "grown_mb": peak - before, "groups": len(groups)}))
"""


def passages(kind: str, count: int, seed: int = 0) -> list:
    """`count` passages of a kind, each in a source of its own. prose: words drawn by Zipf's law from made-up
    words, some paragraphs an earlier one with a word changed; tiny-vocabulary: distinct 30-word paragraphs over 10
    words; alike: paragraphs that share 30 words and differ in 20, each pair about 0.4 alike."""
    from retrieval.records import Passage  # here, so that the parent imports nothing of what it measures

    rng = random.Random(seed)
    if kind == "tiny-vocabulary":
        texts = [" ".join(rng.choices(TINY, k=30)) for _ in range(count)]
    elif kind == "alike":
        shared = " ".join(f"common{i}" for i in range(30))
        texts = [f"{shared} " + " ".join(f"own{i}x{j}" for j in range(20)) for i in range(count)]
    else:
        words = [f"w{rank}" for rank in range(PROSE_VOCABULARY)]
        weights = [1 / rank for rank in range(1, PROSE_VOCABULARY + 1)]
        texts = []
        for _ in range(count):
            if texts and rng.random() < COPIED:
                copied = rng.choice(texts).split()
                copied[rng.randrange(len(copied))] = "changed"
                texts.append(" ".join(copied))
            else:
                texts.append(" ".join(rng.choices(words, weights, k=PROSE_WORDS)))
    return [Passage(f"source-{i}", 1, text) for i, text in enumerate(texts)]


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    import os

    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(kind: str, count: int, limit: float, limit_mb: float = LIMIT_MB) -> dict:
    """One search in a child process: seconds, peak and grown MB, groups; or how it was stopped."""

    def bounded() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(limit_mb * 2**20), resource.RLIM_INFINITY))

    try:
        done = subprocess.run([sys.executable, "-c", CHILD, kind, str(count)], capture_output=True, text=True,
                              timeout=limit, check=False, preexec_fn=bounded)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "passages": count, "stopped": f"past {limit:g} s"}
    if done.returncode:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return {"kind": kind, "passages": count, "stopped": last[:80]}
    return {"kind": kind, "passages": count, **json.loads(done.stdout)}


def table(rows: list[dict]) -> str:
    lines = ["| text | passages | seconds | peak MB | grown MB | groups |", "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        if "stopped" in row:
            lines.append(f"| {row['kind']} | {row['passages']:,} | stopped {row['stopped']} | | | |")
        else:
            lines.append(f"| {row['kind']} | {row['passages']:,} | {row['seconds']:.2f} | {row['peak_mb']:.0f} | "
                         f"{row['grown_mb']:.0f} | {row['groups']:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="numbers of passages")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="texts to search")
    parser.add_argument("--limit-s", type=float, default=LIMIT_SECONDS, help="stop a run after this many seconds")
    parser.add_argument("--limit-mb", type=float, default=LIMIT_MB, help="a run's address space, in MB")
    parser.add_argument("--json", action="store_true", help="one JSON object a run instead of the table")
    args = parser.parse_args(argv)
    rows = []
    for kind in args.kinds:
        for count in args.sizes:
            rows.append(measure(kind, count, args.limit_s, args.limit_mb))
            if args.json:
                print(json.dumps(rows[-1]), flush=True)
    if not args.json:
        print(table(rows))


if __name__ == "__main__":
    main()
