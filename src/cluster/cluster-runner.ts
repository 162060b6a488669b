import { Cause, Effect, Exit, Layer } from "effect"
import { buildClusterLayer, describeFailure, layerRunnerSharding, type RunnerListenOptions } from "./cluster-sharding.js"
import { TrainerEntityLive } from "./trainer-entity-live.js"

/**
 * A `deepspark runner` process: an @effect/cluster runner that hosts `Trainer` entities for any run
 * whose driver uses the same cluster database. It runs until `signal` aborts (Ctrl-C / SIGTERM), then
 * shuts down cleanly: its trainers are stopped and its shards released, so the cluster moves their
 * entities to the other runners at once (a killed runner's shards move when their locks expire).
 */
export interface ClusterRunnerOptions extends RunnerListenOptions {
  readonly log: (line: string) => void
  readonly signal?: AbortSignal
  /** Paths in `Train` messages must lie under this folder (default: the working directory). */
  readonly root?: string
}

export const layerClusterRunner = (options: Omit<ClusterRunnerOptions, "signal">) =>
  TrainerEntityLive({ log: options.log, clusterSecret: options.clusterSecret, root: options.root ?? process.cwd(), ...(options.tls !== undefined ? { tls: options.tls } : {}) }).pipe(
    Layer.provideMerge(layerRunnerSharding(options))
  )

export const runClusterRunner = async (options: ClusterRunnerOptions): Promise<void> => {
  const advertise = options.advertise ?? options.listen
  const until = Effect.async<void>((resume) => {
    const signal = options.signal
    if (!signal) return
    if (signal.aborted) return resume(Effect.void)
    const done = () => resume(Effect.void)
    signal.addEventListener("abort", done, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", done))
  })
  const exit = await Effect.runPromiseExit(
    Effect.gen(function* () {
      yield* buildClusterLayer(layerClusterRunner(options))
      options.log(`Runner ${advertise.host}:${advertise.port} joined the cluster (storage ${options.clusterDb}); hosting deepspark trainers`)
      yield* until
      options.log(`Runner ${advertise.host}:${advertise.port}: stopping; its trainers move to the other runners`)
    }).pipe(Effect.scoped)
  )
  if (Exit.isFailure(exit)) throw new Error(`runner ${advertise.host}:${advertise.port}: ${describeFailure(Cause.squash(exit.cause))}`)
}
