#!/usr/bin/env python3
"""Throughput of the offline token heuristic on plain text, against a local BPE tokenizer when one is there.

    python benchmarks/bench_heuristic.py [--mb 8] [--repeat 5]

The corpus is this repository's own text (docs, code, data; 64 KiB chunks holding a non-ASCII character take
the slower path) repeated to --mb megabytes, so the run needs no download. The best of --repeat runs is
reported, in CPU time of this process (`time.process_time`): on a shared machine wall time measures the
neighbours too (CPU time still varies with them, through caches and shared cores: take the best of a few runs).
Comparison (benchmark only, never a dependency of costplan): `tiktoken` with a locally cached encoding if it
loads, else a byte-level BPE trained here with Hugging Face `tokenizers` (its Rust encoder, single thread:
`encode_batch` would use all cores and compare differently). Missing packages are skipped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from costplan.tokens.heuristic import estimate_text  # noqa: E402
from costplan.tokens.text import text_counts  # noqa: E402


def corpus(megabytes: float) -> str:
    parts = []
    for pattern in ("**/*.md", "**/*.py", "**/*.yaml"):
        for path in sorted(ROOT.glob(pattern)):
            if ".git" not in path.parts:
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
    seed = "\n".join(parts) or "The quick brown fox jumps over the lazy dog.\n"
    target = int(megabytes * 1_000_000)
    return (seed * (target // len(seed.encode()) + 1))[:target]


def best_rate(fn, text: str, repeat: int) -> float:
    """Megabytes per CPU second, the best of `repeat` runs after one untimed run: the process's first pass
    over a large text is slower for whichever function goes first (memory the allocator has not yet reused),
    which made `text_counts` read ~33 MB/s beside `estimate_text`'s ~55 although the second calls the first."""
    size = len(text.encode("utf-8"))
    fn(text)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn(text)
        best = min(best, time.process_time() - start)
    return size / best / 1e6


def bpe_encoder(sample: str):
    try:
        import tiktoken

        enc = tiktoken.get_encoding("cl100k_base")
        return "tiktoken cl100k_base", lambda t: enc.encode(t, disallowed_special=())
    except Exception:  # noqa: BLE001 - not installed, or the encoding file cannot be fetched offline
        pass
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    except ImportError:
        return None, None
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator([sample[:2_000_000]], trainers.BpeTrainer(vocab_size=32000, show_progress=False))
    return "tokenizers byte-level BPE (32k vocab, trained locally)", lambda t: tok.encode(t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    text = corpus(args.mb)
    print(f"corpus: {len(text.encode()) / 1e6:.1f} MB of this repository's text")
    counts_rate = best_rate(text_counts, text, args.repeat)
    full_rate = best_rate(lambda t: estimate_text(t, model="claude-sonnet-4-6"), text, args.repeat)
    print(f"heuristic text_counts:      {counts_rate:8.1f} MB/s")
    print(f"heuristic estimate_text:    {full_rate:8.1f} MB/s  (target >= 50)")
    name, encode = bpe_encoder(text)
    if encode is None:
        print("local BPE tokenizer: not installed (pip install tiktoken or tokenizers to compare)")
        return
    sample = text[: min(len(text), 2_000_000)]
    bpe_rate = best_rate(encode, sample, max(1, args.repeat // 2))
    print(f"{name}: {bpe_rate:8.1f} MB/s  -> heuristic is {full_rate / bpe_rate:.1f}x faster")


if __name__ == "__main__":
    main()
