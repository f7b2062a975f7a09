"""``gym-mame bench``: env speed as a share of raw MAME speed, in the same run."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from gym_mame.cli.lookup import resolve_env
from gym_mame.cli.options import positive, size_list
from gym_mame.cli.registry import command


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("games", nargs="*", default=["pong", "a2600-breakout"],
                        help="game names or env ids")
    parser.add_argument("--steps", type=positive, default=1000,
                        help="random env steps per measurement; raw MAME runs the same "
                        "number of emulated frames, so the two take about as long")
    parser.add_argument("--repeats", type=positive, default=5,
                        help="measurements of each kind, raw and env alternating; figures are "
                        "medians, ratios the median of the per-round ratios")
    parser.add_argument("--frameskip", type=positive, default=None,
                        help="emulated frames per step (default: each env id's own)")
    parser.add_argument("--vector", type=size_list, metavar="N,N,...",
                        help="instead: N sub-envs at once against N raw MAMEs run together "
                        "(native vector env, its async batches, Gymnasium's AsyncVectorEnv, "
                        "ALE's vector env), e.g. 1,2,4,8; --steps then counts per sub-env "
                        "(default: one env, against one raw MAME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("bench", "measure env speed as a share of raw MAME speed (-str), "
         "in the same run",
         arguments=_bench_arguments)
def cmd_bench(args: argparse.Namespace) -> int:
    from gym_mame.tools.bench import run_benchmark

    env_ids = [resolve_env(g) for g in args.games]  # every name checked before minutes of work
    bar: tqdm | None = None

    def progress(what: str, done: int, total: int) -> None:
        # One bar per game on stderr; the table rows go to stdout between them.
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="run", leave=False, file=sys.stderr)
        bar.n = done
        bar.set_description(what)
        if done >= total:
            bar.close()
            bar = None

    try:
        if args.vector:
            from gym_mame.tools.vector_bench import run_vector_benchmark

            for env_id in env_ids:
                run_vector_benchmark(env_id, args.vector, steps=args.steps,
                                     repeats=args.repeats, frameskip=args.frameskip,
                                     progress=None if args.quiet else progress)
            return 0
        run_benchmark(env_ids, steps=args.steps, repeats=args.repeats,
                      frameskip=args.frameskip, progress=None if args.quiet else progress)
    finally:
        if bar is not None:
            bar.close()
    return 0
