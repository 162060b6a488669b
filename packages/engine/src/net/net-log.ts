import {
  printPrototxt,
  resolveNetState,
  type NetParameter,
  type NetState,
  type NetStateRule,
  type ResolvedNetState
} from "@deepspark/caffe"

/** Where the Net writes Caffe's net.cpp INFO lines (the training loop's glog Logger fits). */
export interface NetLogger {
  info(message: string, site?: string): void
}

const PHASE_NUMBER = { TRAIN: 0, TEST: 1 } as const

/**
 * Caffe's StateMeetsRule with its log lines: the first unmet condition of a rule is reported (these
 * appear for include rules that do not match and for exclude rules that do not apply).
 */
const ruleMet = (state: ResolvedNetState, rule: NetStateRule, layer: string, log: NetLogger): boolean => {
  const say = (m: string, line: number) => log.info(`${m} specified by a rule in layer ${layer}`, `net.cpp:${line}`)
  if (rule.phase !== undefined && rule.phase !== state.phase) {
    say(`The NetState phase (${PHASE_NUMBER[state.phase]}) differed from the phase (${PHASE_NUMBER[rule.phase]})`, 296)
    return false
  }
  if (rule.min_level !== undefined && state.level < rule.min_level) {
    say(`The NetState level (${state.level}) is above the min_level (${rule.min_level})`, 303)
    return false
  }
  if (rule.max_level !== undefined && state.level > rule.max_level) {
    say(`The NetState level (${state.level}) is above the max_level (${rule.max_level})`, 311)
    return false
  }
  for (const s of rule.stage ?? []) {
    if (!state.stage.includes(s)) {
      say(`The NetState did not contain stage '${s}'`, 322)
      return false
    }
  }
  for (const s of rule.not_stage ?? []) {
    if (state.stage.includes(s)) {
      say(`The NetState contained a not_stage '${s}'`, 334)
      return false
    }
  }
  return true
}

/** Net::FilterNet's log lines, then `Initializing net from parameters:` with the filtered net. */
export const logNetFiltering = (param: NetParameter, state: NetState | undefined, log: NetLogger): void => {
  const resolved = resolveNetState(state ?? param.state)
  const kept = (param.layer ?? []).filter((layer) => {
    const name = layer.name ?? ""
    let included = (layer.include ?? []).length === 0
    for (const r of layer.exclude ?? []) if (included && ruleMet(resolved, r, name, log)) included = false
    for (const r of layer.include ?? []) if (!included && ruleMet(resolved, r, name, log)) included = true
    return included
  })
  const { layer: _all, layers: _v1, state: _s, ...rest } = param
  const printed: NetParameter = { ...rest, state: state ?? param.state ?? { phase: resolved.phase }, layer: kept }
  log.info(`Initializing net from parameters: \n${printPrototxt("NetParameter", printed)}`, "net.cpp:53")
}

/** A blob shape as Caffe's shape_string: "64 1 28 28 (50176)", a scalar "(1)". */
export const caffeShapeString = (shape: ReadonlyArray<number>): string => {
  const count = shape.reduce((a, b) => a * b, 1)
  return shape.length === 0 ? `(${count})` : `${shape.join(" ")} (${count})`
}
