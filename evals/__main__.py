"""Command line for the evaluations: `python -m evals run --dataset PATH [options]`.

Runs every case through the order desk on a private, freshly seeded store, prints the
accuracy and the silent-loss count per category and overall, the silent cases and the
per-turn latency, and writes a JSON report (per-case verdicts with reasons, silent loss,
the last turn's attention, scores, latencies, provider, prompt path and sha256).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from config import VAR_DIR, ConfigError, configure_logging, load_settings
from evals.runner import EvalReport, run_eval


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run and score an evaluation set")
    run.add_argument("--dataset", type=Path, required=True, help="JSONL file of cases")
    run.add_argument("--prompt", type=Path, help="system prompt file (default: the shipped one)")
    run.add_argument("--provider", choices=["offline", "openai"], default="offline")
    run.add_argument("--report", type=Path, help="JSON report path (default: under var/evals/)")
    run.add_argument("--limit", type=int, help="run only the first N cases")
    return parser.parse_args(argv)


def default_report(dataset: Path, provider: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return VAR_DIR / "evals" / f"{dataset.stem}-{provider}-{stamp}.json"


def run_with_progress(args: argparse.Namespace) -> EvalReport:
    with tqdm(unit="case", desc="eval") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return run_eval(
            args.dataset,
            provider=args.provider,
            prompt_path=args.prompt,
            limit=args.limit,
            progress=progress,
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        configure_logging(load_settings())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if not args.dataset.is_file():
        print(f"no such dataset: {args.dataset}", file=sys.stderr)
        return 2
    try:
        report = run_with_progress(args)
    except ConfigError as error:  # e.g. --provider openai without OPENAI_API_KEY
        print(error, file=sys.stderr)
        return 2
    path = report.write(args.report or default_report(args.dataset, args.provider))
    print(report.table())
    print(f"model {report.model}, prompt {report.prompt_path} (sha256 {report.prompt_sha256[:12]})")
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
