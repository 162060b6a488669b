/**
 * deepspark's runtime as a library: the same Effect programs and services the CLI runs.
 *
 * - Settings and update rules: `makeEasgdSettings`, `readEasgdSettingsFile`, `updateRules` / `ruleByName` /
 *   `ruleNames` (one `UpdateRule` object per rule), the rule kernels.
 * - The center variable as an actor: `Center` (service), `layerCenter`, `CenterHandlersLive` (RPC).
 * - Transports: `CenterRpcs` (the RpcGroup), `serveCenterTcp` / `layerCenterClientProtocolTcp`.
 * - Trainers: `runTrainerLoop` over any `LocalTrainer`; `runLocalWorkers` (worker threads).
 * - Whole runs: `runDistributedTrain` (driver: center + evaluator + trainers + snapshots).
 * - Cluster mode: `ClusterWorkerPool` (trainers on @effect/cluster runners), `runClusterRunner`, `TrainerEntity`.
 * - The deterministic simulator: `simulate`, `softmaxRegressionProblem`.
 * - Pipelines: `Dataset` values and partitions, `Training.fromCaffe` / `Training.distributed` (a run's
 *   `events` Stream of RunEvents and its `result`), `Rules` (./pipeline).
 * Lower floors are their own packages: @deepspark/caffe, @deepspark/data, @deepspark/engine.
 */
export * from "./easgd/index.js"
export * from "./easgd/settings.js"
export * from "./easgd/settings-file.js"
export * from "./center/center-state.js"
export * from "./center/center-service.js"
export * from "./center/center-job.js"
export * from "./center/center-checkpoint.js"
export * from "./transport/center-rpcs.js"
export * from "./transport/float32-schema.js"
export * from "./transport/framing.js"
export * from "./transport/tcp.js"
export * from "./transport/center-handlers.js"
export { serveCenterTcp } from "./center/serve-tcp-workers.js"
export * from "./worker/local-trainer.js"
export * from "./worker/trainer-loop.js"
export * from "./worker/trainer-spec.js"
export * from "./driver/local-workers.js"
export * from "./center/caffe-job.js"
export * from "./model/flat-params.js"
export * from "./driver/distributed-train.js"
export * from "./driver/worker-pool.js"
export * from "./observe/event-log.js"
export * from "./observe/svg-plot.js"
export * from "./simulator/distributions.js"
export * from "./simulator/problem.js"
export * from "./simulator/problem-trainer.js"
export * from "./simulator/simulator.js"
export * from "./staging/protocol.js"
export * from "./staging/server.js"
export * from "./staging/client.js"
export * from "./staging/staging-failed.js"
export * from "./staging/train-data.js"
export * from "./staging/worker-staging.js"
export * from "./cluster/cluster-sql.js"
export * from "./cluster/cluster-sharding.js"
export * from "./cluster/trainer-entity.js"
export * from "./cluster/trainer-entity-live.js"
export * from "./cluster/cluster-worker-pool.js"
export * from "./cluster/cluster-runner.js"
export * from "./pipeline/index.js"
