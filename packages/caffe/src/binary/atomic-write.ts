/**
 * Atomic file replacement: write `<file>.tmp-<pid>-<rand>` in the same directory, then rename over the
 * target, so a crash or a concurrent reader never sees a half-written model / snapshot. The temporary
 * file is removed if anything fails.
 */
import { randomBytes } from "node:crypto"
import { promises as fsp, renameSync, unlinkSync, writeFileSync } from "node:fs"
import { Effect } from "effect"
import { makeCaffeFileError, type CaffeFileError } from "./errors.js"

const tempName = (file: string): string => `${file}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`

/** Synchronous atomic write; throws CaffeFileError. */
export const writeFileAtomicSync = (file: string, bytes: Uint8Array | string): void => {
  const tmp = tempName(file)
  try {
    writeFileSync(tmp, bytes)
    renameSync(tmp, file)
  } catch (cause) {
    try {
      unlinkSync(tmp)
    } catch {
      // the temporary file may not exist
    }
    throw makeCaffeFileError(file, "write", cause)
  }
}

/** Atomic write as an Effect (non-blocking I/O). */
export const writeFileAtomic = (file: string, bytes: Uint8Array | string): Effect.Effect<void, CaffeFileError> =>
  Effect.tryPromise({
    try: async () => {
      const tmp = tempName(file)
      try {
        await fsp.writeFile(tmp, bytes)
        await fsp.rename(tmp, file)
      } catch (cause) {
        await fsp.unlink(tmp).catch(() => undefined)
        throw cause
      }
    },
    catch: (cause) => makeCaffeFileError(file, "write", cause)
  })
