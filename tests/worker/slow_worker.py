"""``scms worker`` that pauses ``SLOW_BATCH_SECONDS`` before each bill-run batch (outside
its transaction), so that a test can kill it in the middle of a run
(tests/worker/test_kill.py)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from app.cli.main import app
from app.invoices.billing_batches import Runner

_batch = Runner._batch


async def _slow_batch(self: Runner, ids: Sequence[str], *, wait: bool) -> list[str]:
    await asyncio.sleep(float(os.environ.get("SLOW_BATCH_SECONDS", "0.3")))
    return await _batch(self, ids, wait=wait)


if __name__ == "__main__":
    Runner._batch = _slow_batch  # type: ignore[method-assign]
    app(["worker"])
