"""Tiles in parallel on CPU threads: one tile per torch thread instead of every op split over all.

A tile of the DiT is a few dozen ops of a few milliseconds each; splitting each op over
the cores (torch's intra-op parallelism) leaves cores idle at every op's start and end. Tiles
are independent, so on the CPU they run side by side, each on one thread, as many at a
time as torch has threads (with `max_workers`, fewer at a time, each on its share of the
threads: where every tile holds a lot of memory), and the results come back lazily in tile
order, with at most two per worker computed ahead: blending is the same sum in the same
order as one tile at a time, and memory holds a few tiles, not a frame's worth. Tiles left
over when their number is not a multiple of the workers' (the 25th of a 256x256 frame's 25
on two threads) run last, one at a time on all the threads, instead of beside an idle core.
torch's thread count is process-wide: it is the per-tile share while the tiles run and
restored afterwards, so two decodes should not run concurrently in one process (they would
share the cores anyway). On CUDA, or with one thread, tiles run one at a time.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Callable, Iterable, Iterator, Optional, TypeVar

import torch

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_tiles(fn: Callable[[Item], Result], items: Iterable[Item], device: torch.device,
              max_workers: Optional[int] = None) -> Iterator[tuple[Item, Result]]:
    """(item, fn(item)) for each item, in order: on the CPU, on torch's threads one item each."""
    items = list(items)
    threads = torch.get_num_threads()
    workers = min(threads, len(items), max_workers or threads)
    if device.type != "cpu" or workers <= 1:
        yield from ((item, fn(item)) for item in items)
        return
    grad = torch.is_grad_enabled()
    inference = torch.is_inference_mode_enabled()

    def run(item: Item) -> Result:
        # autograd and inference mode are per thread: a worker takes the caller's.
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            return fn(item)

    # the last len(items) % workers items would run with cores idle beside them: they run after
    # the pool, one at a time on all the threads
    split = len(items) - len(items) % workers
    side_by_side, after = items[:split], items[split:]
    torch.set_num_threads(threads // workers)
    pool = ThreadPoolExecutor(workers)
    try:
        queue = iter(side_by_side)
        pending = deque((item, pool.submit(run, item)) for item in islice(queue, 2 * workers))
        while pending:
            item, future = pending.popleft()
            for following in islice(queue, 1):
                pending.append((following, pool.submit(run, following)))
            yield item, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
    yield from ((item, fn(item)) for item in after)
