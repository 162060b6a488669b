import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { Effect } from "effect"
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest"

/** What the atomic writers did, in order: fsyncs (of the temporary file or of the folder) and renames. */
const trace = vi.hoisted(() => [] as string[])

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>()
  const kind = (p: unknown) => (String(p).includes(".tmp-") ? "temp file" : fs_isDir(real, p) ? "folder" : `file ${String(p)}`)
  const paths = new Map<number, string>()
  const promises = {
    ...real.promises,
    open: async (p: fs.PathLike, flags?: string | number) => {
      const handle = await real.promises.open(p, flags)
      const sync = handle.sync.bind(handle)
      handle.sync = async () => {
        trace.push(`fsync ${kind(p)}`)
        return sync()
      }
      return handle
    },
    rename: async (a: fs.PathLike, b: fs.PathLike) => {
      trace.push("rename")
      return real.promises.rename(a, b)
    }
  }
  const mocked = {
    ...real,
    promises,
    openSync: (p: fs.PathLike, flags: fs.OpenMode) => {
      const fd = real.openSync(p, flags)
      paths.set(fd, String(p))
      return fd
    },
    fsyncSync: (fd: number) => {
      trace.push(`fsync ${kind(paths.get(fd))}`)
      real.fsyncSync(fd)
    },
    renameSync: (a: fs.PathLike, b: fs.PathLike) => {
      trace.push("rename")
      real.renameSync(a, b)
    }
  }
  return { ...mocked, default: mocked }
})

function fs_isDir(real: typeof import("node:fs"), p: unknown): boolean {
  try {
    return real.statSync(String(p)).isDirectory()
  } catch {
    return false
  }
}

const { writeFileAtomic, writeFileAtomicSync } = await import("./atomic-write.js")

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-atomic-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
beforeEach(() => void (trace.length = 0))

// A power loss after an unsynced rename can leave the new name on an empty file: checkpoints are
// synced before the rename, and the folder after it.
describe.skipIf(process.platform === "win32")("atomic writes are durable", () => {
  it("writeFileAtomicSync: fsync the file, rename, fsync the folder", () => {
    const file = path.join(dir, "a.caffemodel")
    writeFileAtomicSync(file, Uint8Array.of(1, 2, 3))
    expect(trace).toEqual(["fsync temp file", "rename", "fsync folder"])
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3])
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([])
  })

  it("writeFileAtomic: fsync the file, rename, fsync the folder", async () => {
    const file = path.join(dir, "b.dsstate")
    await Effect.runPromise(writeFileAtomic(file, "{}\n"))
    expect(trace).toEqual(["fsync temp file", "rename", "fsync folder"])
    expect(fs.readFileSync(file, "utf8")).toBe("{}\n")
  })
})
