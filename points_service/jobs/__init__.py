"""Long and scheduled work as jobs on a Redis-backed queue (SAQ): the daily warnings, the ledger's
seals, the redemption sweep, large imports. Each package declares its `Work` (plugin `jobs()`); one
worker runs them, inside `points-service serve` by default or apart as `points-service worker`
(POINTS_WORKER). docs/operations.md says how jobs are retried."""

from points_service.jobs.work import JobContext, Work

__all__ = ["JobContext", "Work"]
