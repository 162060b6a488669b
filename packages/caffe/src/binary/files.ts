/**
 * Caffe's binary files: `.caffemodel` (NetParameter), `.binaryproto` (BlobProto, e.g. mean files),
 * `.solverstate` (SolverState). No header or magic number: the file is the serialized message.
 * Writes are atomic (temporary file + rename). Each has an Effect version and a `…Sync` version that
 * throws the same typed errors.
 */
import { promises as fsp, readFileSync } from "node:fs"
import { Effect } from "effect"
import type { BlobProto, CaffeMessageName, CaffeMessages, NetParameter, SolverState } from "../schema/types.js"
import { upgradeNetAsNeeded } from "../upgrade/upgradeNet.js"
import { UpgradeError } from "../upgrade/UpgradeError.js"
import type { UpgradeLogger } from "../upgrade/UpgradeOptions.js"
import { writeFileAtomic, writeFileAtomicSync } from "./atomic-write.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"
import {
  makeCaffeFileError,
  makeProtoDecodeError,
  ProtoDecodeError,
  ProtoEncodeError,
  type CaffeFileError
} from "./errors.js"

const withFile = (e: ProtoDecodeError, file: string): ProtoDecodeError =>
  makeProtoDecodeError({
    messageName: e.messageName,
    fieldPath: e.fieldPath,
    offset: e.offset,
    reason: e.reason,
    file
  })

/** Decodes bytes read from `file`; decode errors name the file. */
const decodeFromFile = <N extends CaffeMessageName>(messageName: N, bytes: Uint8Array, file: string): CaffeMessages[N] => {
  try {
    return decode(messageName, bytes)
  } catch (e) {
    throw e instanceof ProtoDecodeError ? withFile(e, file) : e
  }
}

export const readMessageFileSync = <N extends CaffeMessageName>(messageName: N, file: string): CaffeMessages[N] => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (cause) {
    throw makeCaffeFileError(file, "read", cause)
  }
  return decodeFromFile(messageName, bytes, file)
}

export const readMessageFile = <N extends CaffeMessageName>(
  messageName: N,
  file: string
): Effect.Effect<CaffeMessages[N], CaffeFileError | ProtoDecodeError> =>
  Effect.tryPromise({
    try: () => fsp.readFile(file),
    catch: (cause) => makeCaffeFileError(file, "read", cause)
  }).pipe(
    Effect.flatMap((bytes) =>
      Effect.suspend(() => {
        try {
          return Effect.succeed(decodeFromFile(messageName, bytes, file))
        } catch (e) {
          return e instanceof ProtoDecodeError ? Effect.fail(e) : Effect.die(e)
        }
      })
    )
  )

export const writeMessageFileSync = <N extends CaffeMessageName>(messageName: N, file: string, msg: CaffeMessages[N]): void =>
  writeFileAtomicSync(file, encode(messageName, msg))

export const writeMessageFile = <N extends CaffeMessageName>(
  messageName: N,
  file: string,
  msg: CaffeMessages[N]
): Effect.Effect<void, CaffeFileError | ProtoEncodeError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(encode(messageName, msg))
    } catch (e) {
      return e instanceof ProtoEncodeError ? Effect.fail(e) : Effect.die(e)
    }
  }).pipe(Effect.flatMap((bytes) => writeFileAtomic(file, bytes)))

// .caffemodel
export interface ReadCaffemodelOptions {
  /**
   * Run Caffe's UpgradeNetAsNeeded on what was read, as ReadNetParamsFromBinaryFileOrDie does (V0/V1
   * `layers` caffemodels from the Model Zoo become `layer`s; upgrading a current net changes nothing).
   * Default true; false gives the message exactly as stored (it re-encodes byte-identically).
   */
  readonly upgrade?: boolean
  /** Receives the upgrade's log lines (Caffe's wording); silent by default. */
  readonly log?: UpgradeLogger
}

const upgradeCaffemodel = (net: NetParameter, file: string, options: ReadCaffemodelOptions): NetParameter =>
  options.upgrade === false ? net : upgradeNetAsNeeded(net, { file, ...(options.log !== undefined ? { log: options.log } : {}) })

export const readCaffemodel = (
  file: string,
  options: ReadCaffemodelOptions = {}
): Effect.Effect<NetParameter, CaffeFileError | ProtoDecodeError | UpgradeError> =>
  readMessageFile("NetParameter", file).pipe(
    Effect.flatMap((net) =>
      Effect.suspend(() => {
        try {
          return Effect.succeed(upgradeCaffemodel(net, file, options))
        } catch (e) {
          // Caffe's fatal upgrade cases are UpgradeErrors; anything else is a defect.
          return e instanceof UpgradeError ? Effect.fail(e) : Effect.die(e)
        }
      })
    )
  )
export const readCaffemodelSync = (file: string, options: ReadCaffemodelOptions = {}): NetParameter =>
  upgradeCaffemodel(readMessageFileSync("NetParameter", file), file, options)
export const writeCaffemodel = (file: string, net: NetParameter) => writeMessageFile("NetParameter", file, net)
export const writeCaffemodelSync = (file: string, net: NetParameter): void =>
  writeMessageFileSync("NetParameter", file, net)

// .binaryproto (mean files)
export const readBinaryproto = (file: string) => readMessageFile("BlobProto", file)
export const readBinaryprotoSync = (file: string): BlobProto => readMessageFileSync("BlobProto", file)
export const writeBinaryproto = (file: string, blob: BlobProto) => writeMessageFile("BlobProto", file, blob)
export const writeBinaryprotoSync = (file: string, blob: BlobProto): void => writeMessageFileSync("BlobProto", file, blob)

// .solverstate
export const readSolverState = (file: string) => readMessageFile("SolverState", file)
export const readSolverStateSync = (file: string): SolverState => readMessageFileSync("SolverState", file)
export const writeSolverState = (file: string, state: SolverState) => writeMessageFile("SolverState", file, state)
export const writeSolverStateSync = (file: string, state: SolverState): void =>
  writeMessageFileSync("SolverState", file, state)
