/**
 * The part of the WebAssembly JS API this backend uses. The repo's tsconfig has no "DOM" lib and
 * @types/node 20 does not declare WebAssembly, so these globals (present in every Node ≥ 16) are
 * declared here.
 */
declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number
      maximum?: number
      shared?: boolean
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor)
      readonly buffer: ArrayBuffer | SharedArrayBuffer
      grow(delta: number): number
    }
    class Module {
      constructor(bytes: BufferSource)
    }
    class Instance {
      constructor(module: Module, imports?: Record<string, Record<string, unknown>>)
      readonly exports: Record<string, unknown>
    }
    function validate(bytes: BufferSource): boolean
  }
}

export {}
