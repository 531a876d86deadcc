"""Tiles in parallel on CPU threads: one tile per torch thread instead of every op split over all.

A tile of the DiT is a few dozen ops of a few milliseconds each; splitting each op over
the cores (torch's intra-op parallelism) leaves cores idle at every op's start and end. Tiles
are independent, so on the CPU they run side by side, each on one thread, as many at a
time as torch has threads, and the results come back in tile order (so blending is the same
sum in the same order as one tile at a time; one thread per op also gives the same numbers,
docs/benchmarks.md). torch's thread count is process-wide: it is 1 while the tiles run and
restored afterwards, so two decodes should not run concurrently in one process (they would
share the cores anyway). On CUDA, or with one thread, tiles run one at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

import torch

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_tiles(fn: Callable[[Item], Result], items: Iterable[Item], device: torch.device) -> list[Result]:
    """[fn(item) for item in items], on torch's CPU threads one item each where that helps."""
    items = list(items)
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    grad = torch.is_grad_enabled()
    inference = torch.is_inference_mode_enabled()

    def run(item: Item) -> Result:
        # autograd and inference mode are per thread: a worker takes the caller's.
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            return fn(item)

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(min(threads, len(items))) as pool:
            return list(pool.map(run, items))
    finally:
        torch.set_num_threads(threads)
