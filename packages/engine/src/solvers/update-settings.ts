import type { SolverParameter } from "@deepspark/caffe"
import { SolverConfigError } from "./errors.js"

export type SolverTypeName = "SGD" | "Nesterov" | "AdaGrad" | "RMSProp" | "AdaDelta" | "Adam"
export const SOLVER_TYPES: ReadonlyArray<SolverTypeName> = ["SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"]

export type LrPolicyName = "fixed" | "step" | "exp" | "inv" | "multistep" | "poly" | "sigmoid"
export const LR_POLICIES: ReadonlyArray<LrPolicyName> = ["fixed", "step", "exp", "inv", "multistep", "poly", "sigmoid"]

/**
 * The part of a SolverParameter that decides the parameter update, with Caffe's defaults applied and
 * every `float` field rounded to float32 (Caffe keeps them as float; the prototxt reader hands doubles).
 */
export interface UpdateSettings {
  readonly type: SolverTypeName
  readonly baseLr: number
  readonly lrPolicy: LrPolicyName
  readonly gamma: number
  readonly power: number
  readonly stepsize: number
  readonly stepvalue: ReadonlyArray<number>
  readonly maxIter: number
  readonly momentum: number
  readonly momentum2: number
  readonly delta: number
  readonly rmsDecay: number
  readonly weightDecay: number
  readonly regularizationType: "L1" | "L2"
  readonly clipGradients: number
  readonly iterSize: number
  /** Display interval (0 = never): `Iteration N, lr = R` is logged when N % display == 0. */
  readonly display: number
}

const f32 = Math.fround

const LEGACY_SOLVER_TYPES: Readonly<Record<string, SolverTypeName>> = {
  SGD: "SGD",
  NESTEROV: "Nesterov",
  ADAGRAD: "AdaGrad",
  RMSPROP: "RMSProp",
  ADADELTA: "AdaDelta",
  ADAM: "Adam"
}

/**
 * Reads and checks the update settings of a solver parameter (Caffe's defaults per caffe-facts §1;
 * checks as Caffe's solver constructors and GetLearningRate make them, but up front instead of at the
 * first update).
 */
export const updateSettingsFrom = (p: SolverParameter): UpdateSettings => {
  const type = resolveType(p)
  const lrPolicy = p.lr_policy ?? ""
  if (!(LR_POLICIES as ReadonlyArray<string>).includes(lrPolicy)) {
    throw new SolverConfigError(
      "lr_policy",
      lrPolicy === ""
        ? `must be set (one of ${LR_POLICIES.join(", ")})`
        : `Unknown learning rate policy: ${lrPolicy} (known: ${LR_POLICIES.join(", ")})`
    )
  }
  const s: UpdateSettings = {
    type,
    baseLr: f32(p.base_lr ?? 0),
    lrPolicy: lrPolicy as LrPolicyName,
    gamma: f32(p.gamma ?? 0),
    power: f32(p.power ?? 0),
    stepsize: p.stepsize ?? 0,
    stepvalue: [...(p.stepvalue ?? [])],
    maxIter: p.max_iter ?? 0,
    momentum: f32(p.momentum ?? 0),
    momentum2: f32(p.momentum2 ?? 0.999),
    delta: f32(p.delta ?? 1e-8),
    rmsDecay: f32(p.rms_decay ?? 0.99),
    weightDecay: f32(p.weight_decay ?? 0),
    regularizationType: resolveRegularization(p.regularization_type ?? "L2"),
    clipGradients: f32(p.clip_gradients ?? -1),
    iterSize: p.iter_size ?? 1,
    display: p.display ?? 0
  }
  checkSettings(s)
  return s
}

const resolveType = (p: SolverParameter): SolverTypeName => {
  const t = p.type ?? (p.solver_type !== undefined ? LEGACY_SOLVER_TYPES[p.solver_type] : undefined) ?? "SGD"
  if (!(SOLVER_TYPES as ReadonlyArray<string>).includes(t)) {
    throw new SolverConfigError("type", `Unknown solver type: ${t} (known types: ${[...SOLVER_TYPES].sort().join(", ")})`)
  }
  return t as SolverTypeName
}

const resolveRegularization = (r: string): "L1" | "L2" => {
  if (r === "L1" || r === "L2") return r
  throw new SolverConfigError("regularization_type", `Unknown regularization type: ${r} (known: L1, L2)`)
}

/** Caffe's CHECKs on the update settings; the first violation throws, naming the field. */
export const checkSettings = (s: UpdateSettings): void => {
  const gammaPolicies: ReadonlyArray<LrPolicyName> = ["step", "exp", "inv", "multistep", "sigmoid"]
  if (gammaPolicies.includes(s.lrPolicy) && !(s.gamma >= 0)) {
    throw new SolverConfigError("gamma", `must be >= 0 for lr_policy ${s.lrPolicy}, got ${s.gamma}`)
  }
  if ((s.lrPolicy === "step" || s.lrPolicy === "sigmoid") && !(s.stepsize > 0)) {
    throw new SolverConfigError("stepsize", `must be > 0 for lr_policy ${s.lrPolicy}, got ${s.stepsize}`)
  }
  if (s.lrPolicy === "poly" && !(s.maxIter > 0)) {
    throw new SolverConfigError("max_iter", `must be > 0 for lr_policy poly, got ${s.maxIter}`)
  }
  if (!Number.isInteger(s.iterSize) || s.iterSize < 1) {
    throw new SolverConfigError("iter_size", `must be a positive integer, got ${s.iterSize}`)
  }
  if (s.type === "AdaGrad" && s.momentum !== 0) {
    throw new SolverConfigError("momentum", `Momentum cannot be used with AdaGrad (got ${s.momentum})`)
  }
  if (s.type === "RMSProp") {
    if (s.momentum !== 0) throw new SolverConfigError("momentum", `Momentum cannot be used with RMSProp (got ${s.momentum})`)
    if (!(s.rmsDecay >= 0 && s.rmsDecay < 1)) {
      throw new SolverConfigError("rms_decay", `rms_decay should lie between 0 and 1 (got ${s.rmsDecay})`)
    }
  }
}
