import { Data } from "effect"

/**
 * A legacy net or solver that Caffe refuses to upgrade (its LOG(FATAL)/CHECK cases): both `layer` and
 * `layers`, an unknown V0 layer type, a padding layer feeding a non-conv layer, `solver_type` together
 * with `type`, inputs without enough dims. `path` names the offending field, e.g. `layers[3].layer.type`.
 */
export class UpgradeError extends Data.TaggedError("UpgradeError")<{
  readonly file: string
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.file}: ${this.path === "" ? "" : `${this.path}: `}${this.reason}`
  }
}
