/**
 * Atomic, durable file replacement: write `<file>.tmp-<pid>-<rand>` in the same directory, fsync it,
 * rename it over the target, then fsync the directory. Without the first fsync a power loss after the
 * rename can leave the new name pointing at an empty or partial file (the data was still in the page
 * cache); without the second the rename itself may be lost. A crash or a concurrent reader never sees a
 * half-written model / snapshot. The temporary file is removed if anything fails.
 */
import { randomBytes } from "node:crypto"
import { closeSync, fsyncSync, openSync, promises as fsp, renameSync, unlinkSync, writeSync } from "node:fs"
import path from "node:path"
import { Effect } from "effect"
import { makeCaffeFileError, type CaffeFileError } from "./errors.js"

const tempName = (file: string): string => `${file}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`

const asBytes = (data: Uint8Array | string): Uint8Array => (typeof data === "string" ? Buffer.from(data, "utf8") : data)

/**
 * Makes a rename in `dir` durable. Windows cannot open a directory for fsync (and its renames are
 * journaled by NTFS), so there it is skipped; elsewhere a failure is reported.
 */
const fsyncDirSync = (dir: string): void => {
  if (process.platform === "win32") return
  const fd = openSync(dir, "r")
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

const fsyncDir = async (dir: string): Promise<void> => {
  if (process.platform === "win32") return
  const handle = await fsp.open(dir, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Synchronous atomic write; throws CaffeFileError. */
export const writeFileAtomicSync = (file: string, data: Uint8Array | string): void => {
  const tmp = tempName(file)
  try {
    const fd = openSync(tmp, "w")
    try {
      const bytes = asBytes(data)
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (cause) {
    try {
      unlinkSync(tmp)
    } catch {
      // the temporary file may not exist (or was already renamed)
    }
    throw makeCaffeFileError(file, "write", cause)
  }
  try {
    fsyncDirSync(path.dirname(path.resolve(file)))
  } catch (cause) {
    throw makeCaffeFileError(file, "write", cause)
  }
}

/** Atomic write as an Effect (non-blocking I/O). */
export const writeFileAtomic = (file: string, data: Uint8Array | string): Effect.Effect<void, CaffeFileError> =>
  Effect.tryPromise({
    try: async () => {
      const tmp = tempName(file)
      try {
        const handle = await fsp.open(tmp, "w")
        try {
          await handle.writeFile(asBytes(data))
          await handle.sync()
        } finally {
          await handle.close()
        }
        await fsp.rename(tmp, file)
      } catch (cause) {
        await fsp.unlink(tmp).catch(() => undefined)
        throw cause
      }
      await fsyncDir(path.dirname(path.resolve(file)))
    },
    catch: (cause) => makeCaffeFileError(file, "write", cause)
  })
