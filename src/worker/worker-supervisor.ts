import { fork, type ChildProcess } from "node:child_process"
import { processEntry } from "../launch/entry-points.js"
import { childExit, type RemoteTrainerAssignment } from "./remote-assignment.js"

/**
 * The `deepspark worker` process: runs the trainer in a child process and restarts it, with exponential
 * backoff, whenever it dies (an exception, an out-of-memory kill, `kill -9`, a lost center). Each new
 * incarnation re-registers and resumes its partition from its last exchange; the center sorts out any
 * message of a dead incarnation by its incarnation number. Plain Node (no Effect) so this process stays
 * small and starts fast; everything heavy lives in the child.
 */
export interface SuperviseOptions {
  readonly remote: RemoteTrainerAssignment
  /** Restarts allowed before giving up (default 10). */
  readonly maxRestarts?: number
  /** First restart delay; doubles per restart up to maxBackoffMs (defaults 500 ms, 30 s). */
  readonly backoffMs?: number
  readonly maxBackoffMs?: number
  readonly log: (line: string) => void
  /** Called with each child as it starts (tests kill it). */
  readonly onChild?: (child: ChildProcess, attempt: number) => void
  /** Aborting kills the child and ends supervision. */
  readonly signal?: AbortSignal
  /** Aborting asks the trainer to leave the job for good after its current exchange (`--leave`). */
  readonly leave?: AbortSignal
}

export interface SuperviseResult {
  readonly status: "done" | "rejected" | "gave-up" | "aborted"
  readonly restarts: number
  /** The trainer loop's result when done. */
  readonly result?: unknown
}

const childEntry = processEntry("trainer-child")

const runChild = (options: SuperviseOptions, attempt: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; result?: unknown }> =>
  new Promise((resolve) => {
    const child = fork(childEntry.file, [...childEntry.args, JSON.stringify(options.remote)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    let result: unknown
    child.on("message", (m: { type?: string; result?: unknown }) => {
      if (m?.type === "done") result = m.result
    })
    const abort = () => child.kill("SIGTERM")
    options.signal?.addEventListener("abort", abort, { once: true })
    const leave = () => child.connected && child.send({ type: "leave" })
    if (options.leave?.aborted) child.once("spawn", leave)
    else options.leave?.addEventListener("abort", leave, { once: true })
    child.on("exit", (code, signal) => {
      options.signal?.removeEventListener("abort", abort)
      options.leave?.removeEventListener("abort", leave)
      resolve(result === undefined ? { code, signal } : { code, signal, result })
    })
    options.log(`worker ${options.remote.assignment.workerId}: trainer process ${child.pid} started (attempt ${attempt + 1})`)
    options.onChild?.(child, attempt)
  })

export const superviseTrainer = async (options: SuperviseOptions): Promise<SuperviseResult> => {
  const maxRestarts = options.maxRestarts ?? 10
  const backoff = options.backoffMs ?? 500
  const maxBackoff = options.maxBackoffMs ?? 30_000
  const id = options.remote.assignment.workerId
  for (let attempt = 0; ; attempt++) {
    const exit = await runChild(options, attempt)
    if (options.signal?.aborted) return { status: "aborted", restarts: attempt }
    if (exit.code === childExit.done && exit.result !== undefined) return { status: "done", restarts: attempt, result: exit.result }
    if (exit.code === childExit.rejected) return { status: "rejected", restarts: attempt }
    const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`
    if (attempt >= maxRestarts) {
      options.log(`worker ${id}: trainer process died (${how}); giving up after ${maxRestarts} restarts`)
      return { status: "gave-up", restarts: attempt }
    }
    const delay = Math.min(maxBackoff, backoff * 2 ** attempt)
    options.log(`worker ${id}: trainer process died (${how}); restarting in ${delay} ms (restart ${attempt + 1}/${maxRestarts})`)
    const aborted = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), delay)
      options.signal?.addEventListener("abort", () => (clearTimeout(t), resolve(true)), { once: true })
    })
    if (aborted) return { status: "aborted", restarts: attempt + 1 }
  }
}
