import { Scheduler } from "effect"

/**
 * The Effect scheduler for processes that mostly move bytes (center, remote trainers). Effect's default
 * scheduler runs tasks on microtasks and, after 2,048 in a row, yields with setTimeout(0) — at least
 * 1 ms per yield. The socket layer forks a fiber per 64 KB chunk it reads, so a multi-MB exchange hits
 * those timer yields over and over. Batching on setImmediate yields to I/O at once instead: on loopback
 * it halved the median round trip of a LeNet-sized exchange (43 → 24 ms on the shared 2-core machine).
 */
export const ioScheduler: Scheduler.Scheduler = Scheduler.makeBatched((runBatch) => setImmediate(runBatch))
