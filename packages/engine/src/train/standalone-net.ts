import path from "node:path"
import { mergeNetState, readCaffemodelSync, readNetPrototxtSync, type NetState } from "@deepspark/caffe"
import type { Backend } from "../backend/backend.js"
import { Rng } from "../core/rng.js"
import { DATA_SOURCE_FACTORY } from "../layers/data.js"
import { openNetDataSources } from "../net/data-sources.js"
import { Net } from "../net/net.js"
import type { Logger } from "./logger.js"
import { silentLogger } from "./logger.js"

export interface StandaloneNetOptions {
  /** The phase Caffe's tool forces (test: TEST, time: TRAIN unless -phase). */
  readonly phase: "TRAIN" | "TEST"
  readonly level?: number
  readonly stages?: ReadonlyArray<string>
  /** Folder that relative data paths resolve against (Caffe: the working directory). */
  readonly cwd?: string
  readonly backend?: Backend
  readonly seed?: number
  /** Weights to copy in by layer name (`-weights a.caffemodel[,b.caffemodel]`). */
  readonly weights?: ReadonlyArray<string>
  readonly log?: Logger
}

/** A net opened from a prototxt for a command (Caffe's Net(file, phase, level, stages)). */
export interface StandaloneNet {
  readonly net: Net
  close(): Promise<void>
}

/**
 * Caffe's `Net(model, phase, level, stages)` as `caffe test` and `caffe time` build it: the file's
 * state with the phase forced and the command-line level and stages, Data layers opened, then the
 * weights copied in by layer name.
 */
export const openStandaloneNet = async (modelFile: string, options: StandaloneNetOptions): Promise<StandaloneNet> => {
  const log = options.log ?? silentLogger
  const cwd = options.cwd ?? process.cwd()
  const param = readNetPrototxtSync(path.resolve(cwd, modelFile))
  const state: NetState = mergeNetState(param.state, {
    phase: options.phase,
    ...(options.level !== undefined ? { level: options.level } : {}),
    ...(options.stages && options.stages.length > 0 ? { stage: [...options.stages] } : {})
  })
  const rng = new Rng(options.seed ?? 1701)
  const sources = await openNetDataSources(param, { state, rng, baseDir: cwd })
  try {
    const net = new Net(param, {
      state,
      rng,
      services: { [DATA_SOURCE_FACTORY]: sources.factory },
      ...(options.backend ? { backend: options.backend } : {})
    })
    for (const file of options.weights ?? []) {
      net.copyTrainedLayersFrom(readCaffemodelSync(path.resolve(cwd, file)), { file, log: (line) => log.info(line) })
    }
    return { net, close: () => sources.close() }
  } catch (e) {
    await sources.close()
    throw e
  }
}
