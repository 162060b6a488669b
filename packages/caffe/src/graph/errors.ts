import { Data } from "effect"

/**
 * Failures of building a net graph or resolving a solver's nets. Each names the layer (and the blob,
 * where one is involved) so a user can find the line to fix; `message` is one line.
 * Thrown by the synchronous graph functions; usable as Effect failures as they are (Data.TaggedError).
 */

/** A layer's own configuration is invalid (both include and exclude rules, bad field combination…). */
export class LayerConfigError extends Data.TaggedError("LayerConfigError")<{
  readonly layer: string
  readonly type: string
  readonly reason: string
}> {
  override get message(): string {
    return `layer '${this.layer}'${this.type === "" ? "" : ` (${this.type})`}: ${this.reason}`
  }
}

/** A bottom blob that no earlier layer produces. */
export class UnknownBottomError extends Data.TaggedError("UnknownBottomError")<{
  readonly layer: string
  readonly blob: string
  readonly bottomIndex: number
  /** Layers that do produce the blob but were filtered out by the NetState, and that state. */
  readonly excluded?: { readonly layers: ReadonlyArray<string>; readonly state: string }
}> {
  override get message(): string {
    const base = `layer '${this.layer}': unknown bottom blob '${this.blob}' (bottom index ${this.bottomIndex}); no earlier layer produces it`
    if (this.excluded === undefined || this.excluded.layers.length === 0) return base
    const names = [...new Set(this.excluded.layers)].map((n) => `'${n}'`).join(", ")
    return `${base} (layer ${names} producing it is excluded in ${this.excluded.state})`
  }
}

/** A top blob produced a second time without being an in-place top (top[i] == bottom[i]). */
export class DuplicateTopError extends Data.TaggedError("DuplicateTopError")<{
  readonly layer: string
  readonly blob: string
}> {
  override get message(): string {
    return `layer '${this.layer}': top blob '${this.blob}' produced by multiple sources (only top[i] == bottom[i] is in-place)`
  }
}

/** Shape inference failed: incompatible bottom shapes, kernel larger than the padded input, … */
export class ShapeError extends Data.TaggedError("ShapeError")<{
  readonly layer: string
  readonly type: string
  /** The blob the problem is about ("" when it concerns the layer as a whole). */
  readonly blob: string
  readonly reason: string
}> {
  override get message(): string {
    const blob = this.blob === "" ? "" : ` blob '${this.blob}'`
    return `layer '${this.layer}' (${this.type})${blob}: ${this.reason}`
  }
}

/** A layer type deepspark does not run (Python) or does not know at all. */
export class UnsupportedLayerError extends Data.TaggedError("UnsupportedLayerError")<{
  readonly layer: string
  readonly type: string
  readonly reason: string
}> {
  override get message(): string {
    return `layer '${this.layer}': type '${this.type}' ${this.reason}`
  }
}

/** Parameter sharing by `param.name` between incompatible blobs, or too many `param` specs. */
export class ParamSpecError extends Data.TaggedError("ParamSpecError")<{
  readonly layer: string
  readonly param: string
  readonly reason: string
}> {
  override get message(): string {
    return `layer '${this.layer}'${this.param === "" ? "" : ` param '${this.param}'`}: ${this.reason}`
  }
}

/** A SolverParameter that does not name its nets consistently. */
export class SolverNetsError extends Data.TaggedError("SolverNetsError")<{
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `solver ${this.field}: ${this.reason}`
  }
}

export type NetGraphError =
  | LayerConfigError
  | UnknownBottomError
  | DuplicateTopError
  | ShapeError
  | UnsupportedLayerError
  | ParamSpecError
