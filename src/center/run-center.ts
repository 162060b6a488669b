/**
 * `deepspark center`'s program. Why it is not runDistributedTrain (../driver/distributed-train.ts) with
 * a TcpWorkerPool, although both serve a Center to TCP workers (what they have in common is shared:
 * layerCenter, serveTcpWorkers, CenterJob, the checkpoint format):
 * - who owns the plan: here each `deepspark worker` brings its own (partition i/N, period, max-iter),
 *   started by an operator, and the center knows only how many to wait for; the driver makes the plan
 *   (N partitions × the solver's max_iter), turns Caffe's per-iteration test_interval/snapshot into
 *   exchange counts and ends with a Caffe snapshot `<prefix>_iter_<max_iter>`.
 * - the job: any CenterJob (the synthetic problem runs the multi-process tests and benchmarks without a
 *   Caffe net); the driver's is a solver file, tested in an evaluator thread by iteration.
 * - how it ends: an exchange budget (--max-exchanges, then a drain), Ctrl-C (a final checkpoint, exit
 *   130) or the planned workers finishing; the driver ends when its pool's trainers finish.
 * - operation: heartbeat timeout, display interval, plain log lines, an I/O scheduler for a process
 *   that mostly moves bytes.
 * Running it through the driver would give the driver a second behaviour for each of these.
 */
import { Duration, Effect, Layer, Schedule } from "effect"
import { Center, layerCenter, type CenterEvaluation, formatG } from "./center-service.js"
import type { CenterCheckpointState, CenterConfig, CenterEvent } from "./center-state.js"
import { describeRuleSettings, type EasgdSettings } from "../easgd/settings.js"
import type { CenterJob } from "./center-job.js"
import { exchangeCheckpointBase, readCenterCheckpoint, writeCenterCheckpoint } from "./center-checkpoint.js"
import { forLog } from "../transport/bounded-string.js"
import type { TlsFiles } from "../transport/tls-options.js"
import { ioScheduler } from "../transport/io-scheduler.js"
import { serveTcpWorkers } from "./serve-tcp-workers.js"

/**
 * A center process: x̃ from a CenterJob, served over TCP to `deepspark worker` processes, with periodic
 * tests and atomic checkpoints, optionally resumed from a checkpoint. Ends when the exchange target is
 * reached, when every planned worker has finished its max_iter, or when `signal` aborts (Ctrl-C) —
 * always leaving a checkpoint of the final x̃ when checkpoints are on.
 */
export interface RunCenterOptions {
  readonly job: CenterJob
  readonly token: string
  readonly host: string
  readonly port: number
  readonly settings: EasgdSettings
  /** Planned workers: the decay schedule's N, and the run ends once that many have finished. */
  readonly workers: number
  /** Workers may join (`deepspark worker --join`) and leave during the run (see elastic-plan.ts). */
  readonly elastic?: boolean
  /** Stop the run after this many exchanges in total (counting those before a resume); 0 = never. */
  readonly maxExchanges?: number
  /** Checkpoint every this many exchanges (0 = only at the end, when a prefix is set). */
  readonly checkpointEvery?: number
  readonly checkpointPrefix?: string
  /** A .dsstate to resume from. */
  readonly resume?: string
  /** Test x̃ every this many exchanges (0 = only at the end). */
  readonly testInterval?: number
  readonly heartbeatTimeoutMs?: number
  readonly maxMessageBytes?: number
  /** Serve workers over TLS (../transport/tls-options.ts). */
  readonly tls?: TlsFiles
  /** Log one line every this many exchanges (0 = never). */
  readonly display?: number
  readonly log: (line: string) => void
  /** Effect's Logger for the center's own `Effect.log` lines (default: Effect's); the CLI gives one that writes as `log` does. */
  readonly effectLogger?: Layer.Layer<never>
  readonly onListening?: (address: { host: string; port: number }) => void
  readonly onEvent?: (e: CenterEvent) => void
  readonly signal?: AbortSignal
  /** After the exchange target, how long to let workers collect their last reply and say goodbye. */
  readonly drainMs?: number
  /**
   * Also serve partitions of the databases under `root` (default: the working directory, where Caffe
   * resolves the prototxts' paths) to workers that stage them (`--serve-data`): a staging server on its
   * own address, with the run's token, for as long as the center runs.
   */
  readonly serveData?: { readonly host: string; readonly port: number; readonly root?: string }
  readonly onDataListening?: (address: { host: string; port: number }) => void
}

export interface RunCenterResult {
  readonly exchanges: number
  readonly version: number
  readonly reason: "exchange-target" | "workers-finished" | "interrupted"
  readonly evaluation?: CenterEvaluation
  /** The last checkpoint's model file. */
  readonly checkpoint?: string
}

export const runCenter = async (options: RunCenterOptions): Promise<RunCenterResult> => {
  const { job, log } = options
  const resumed = options.resume ? await readCenterCheckpoint(job, options.resume) : undefined
  const prefix = options.checkpointPrefix ?? job.defaultCheckpointPrefix
  const checkpoints = prefix !== undefined && job.writeModel !== undefined
  let lastCheckpoint: { path: string; exchanges: number } | undefined

  const config: CenterConfig = {
    token: options.token,
    settings: options.settings,
    workers: options.workers,
    initial: resumed ? resumed.x : job.initialParams(),
    ...(options.maxExchanges ? { maxExchanges: options.maxExchanges } : {}),
    ...(options.elastic ? { elastic: true } : {})
  }
  const display = options.display ?? 0
  const onEvent = (e: CenterEvent) => {
    options.onEvent?.(e)
    if (e.type === "registered") log(`Worker ${forLog(e.workerId)} registered (incarnation ${e.incarnation}${e.resumed ? ", resuming" : ""})`)
    else if (e.type === "assigned")
      log(`Worker ${forLog(e.workerId)} reads records [${e.assignment.from}, ${e.assignment.to}) of epoch ${e.assignment.epoch} (${e.why})`)
    else if (e.type === "diverged") log(`Worker ${forLog(e.workerId)} diverged at iteration ${e.clock}: reset from the center`)
    else if (e.type === "rejected") log(`Rejected a request from ${JSON.stringify(forLog(e.workerId))}: ${e.reason} (${forLog(e.message, 400)})`)
    else if (e.type === "exchange" && display > 0 && e.exchanges % display === 0)
      log(`Exchange ${e.exchanges}: worker ${forLog(e.workerId)}, loss = ${formatG(e.loss)}, distance = ${formatG(e.distance)}, staleness ${e.staleness}`)
  }

  const program = (writeCheckpoint: (x: Float32Array, state: CenterCheckpointState) => Effect.Effect<string, unknown>) =>
    Effect.gen(function* () {
      const center = yield* Center
      if (resumed) {
        const { ruleStateRestored } = yield* center.restore(resumed.x, resumed.state)
        log(`Resumed from ${options.resume}: exchange ${resumed.state.exchanges}, ${resumed.state.workers.length} known workers`)
        if (!ruleStateRestored)
          log(`${options.resume} holds no ${center.ruleName} center state (a checkpoint of rule ${resumed.state.rule}): its outer momentum starts at zero`)
      }
      const root = options.serveData?.root ?? process.cwd()
      const served = yield* serveTcpWorkers({
        host: options.host,
        port: options.port,
        token: options.token,
        ...(options.maxMessageBytes ? { maxFrameBytes: options.maxMessageBytes } : {}),
        ...(options.tls !== undefined ? { tls: options.tls } : {}),
        ...(options.serveData ? { serveData: { host: options.serveData.host, port: options.serveData.port, root } } : {})
      })
      if (served.data) {
        log(`Staging server listening on ${served.data.host}:${served.data.port}: partitions of the databases under ${root}`)
        options.onDataListening?.(served.data)
      }
      const address = served.center
      log(`Center listening on ${address.host}:${address.port}${options.tls !== undefined ? " (TLS)" : ""}: ${job.description}, rule ${options.settings.rule} (${describeRuleSettings(options.settings)}), ${options.workers} worker(s)`)
      options.onListening?.(address)

      const poll = (done: Effect.Effect<boolean>) =>
        done.pipe(Effect.repeat({ schedule: Schedule.spaced(Duration.millis(50)), until: (d) => d }))
      const aborted = Effect.async<void>((resume) => {
        const signal = options.signal
        if (!signal) return
        if (signal.aborted) return resume(Effect.void)
        const h = () => resume(Effect.void)
        signal.addEventListener("abort", h, { once: true })
        return Effect.sync(() => signal.removeEventListener("abort", h))
      })
      const reason = yield* Effect.raceAll([
        center.stopped.pipe(Effect.as("exchange-target" as const)),
        poll(center.plannedWorkersFinished(options.workers)).pipe(Effect.as("workers-finished" as const)),
        aborted.pipe(Effect.as("interrupted" as const))
      ])
      if (reason === "exchange-target") {
        // Workers learn of the stop from their next reply or heartbeat; let them finish talking.
        yield* poll(center.view.pipe(Effect.map((v) => v.activeWorkers === 0))).pipe(Effect.timeout(Duration.millis(options.drainMs ?? 2000)), Effect.ignore)
      }
      yield* center.quiesce
      // The final x̃, read now (not through center.checkpointNow/testNow, which capture x̃ when built).
      const final = yield* center.checkpointData
      const exchanges = final.state.exchanges
      log(`Center stopping (${reason}) after ${exchanges} exchanges`)
      if (checkpoints && lastCheckpoint?.exchanges !== exchanges) yield* writeCheckpoint(final.x, final.state)
      let evaluation: CenterEvaluation | undefined
      if (job.evaluate) {
        evaluation = yield* Effect.promise(() => job.evaluate!(final.x.slice(), exchanges))
        log(`Exchange ${exchanges}, Testing the center`)
        evaluation.outputs.forEach((o, k) => log(`    Test net output #${k}: ${o.name} = ${formatG(o.value)}`))
      }
      return { exchanges, version: final.state.version, reason, evaluation }
    })

  const writeCheckpoint = (x: Float32Array, state: CenterCheckpointState) =>
    Effect.tryPromise(() => writeCenterCheckpoint(job, exchangeCheckpointBase(prefix!, state.exchanges), x, state)).pipe(
      Effect.map((files) => files.model),
      Effect.tap((p) =>
        Effect.sync(() => {
          if (!lastCheckpoint || state.exchanges >= lastCheckpoint.exchanges) lastCheckpoint = { path: p, exchanges: state.exchanges }
          log(`Snapshotting the center to ${p}`)
        })
      )
    )
  const result = await Effect.runPromise(
    program(writeCheckpoint).pipe(
      Effect.scoped,
      Effect.provide(
        layerCenter(config, {
          onEvent,
          log,
          heartbeatTimeout: Duration.millis(options.heartbeatTimeoutMs ?? 60_000),
          ...(job.evaluate ? { evaluate: (x: Float32Array, n: number) => Effect.promise(() => job.evaluate!(x, n)) } : {}),
          ...(options.testInterval ? { testInterval: options.testInterval } : {}),
          ...(checkpoints ? { checkpointEvery: options.checkpointEvery ?? 0, writeCheckpoint } : {})
        })
      ),
      Effect.withScheduler(ioScheduler),
      Effect.provide(options.effectLogger ?? Layer.empty)
    )
  )
  return {
    exchanges: result.exchanges,
    version: result.version,
    reason: result.reason,
    ...(result.evaluation ? { evaluation: result.evaluation } : {}),
    ...(lastCheckpoint ? { checkpoint: lastCheckpoint.path } : {})
  }
}
