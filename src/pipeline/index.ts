/**
 * The pipeline API: data sets and partitions as values (`Dataset`), training jobs and runs
 * (`Training`), update rules by name (`Rules`), a run's progress as a Stream of typed events.
 */
export * from "./dataset.js"
export * from "./rules.js"
export * from "./training.js"
export * from "../observe/run-event.js"
export * from "../observe/run-event-hub.js"
export * from "../driver/training-errors.js"
export * from "../observe/glog-effect-logger.js"
