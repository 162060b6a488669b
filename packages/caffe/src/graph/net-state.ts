import type { LayerParameter, NetParameter, NetState, NetStateRule, Phase } from "../schema/types.js"
import { LayerConfigError } from "./errors.js"

/** A NetState with every field resolved (phase defaults to TEST, level to 0, as in caffe.proto). */
export interface ResolvedNetState {
  readonly phase: Phase
  readonly level: number
  readonly stage: ReadonlyArray<string>
}

/**
 * protobuf `MergeFrom` of NetStates, as Caffe layers them (solver default, then the net's own `state`,
 * then `train_state` / `test_state[i]`, then command-line flags): present scalars overwrite, `stage`
 * lists concatenate.
 */
export const mergeNetState = (...states: ReadonlyArray<NetState | undefined>): NetState => {
  const out: NetState = {}
  for (const s of states) {
    if (s === undefined) continue
    if (s.phase !== undefined) out.phase = s.phase
    if (s.level !== undefined) out.level = s.level
    if (s.stage !== undefined && s.stage.length > 0) out.stage = [...(out.stage ?? []), ...s.stage]
  }
  return out
}

export const resolveNetState = (state: NetState | undefined): ResolvedNetState => ({
  phase: state?.phase ?? "TEST",
  level: state?.level ?? 0,
  stage: state?.stage ?? []
})

/** Caffe's `Net::StateMeetsRule`: every condition present in the rule must hold. */
export const stateMeetsRule = (state: ResolvedNetState, rule: NetStateRule): boolean => {
  if (rule.phase !== undefined && rule.phase !== state.phase) return false
  if (rule.min_level !== undefined && state.level < rule.min_level) return false
  if (rule.max_level !== undefined && state.level > rule.max_level) return false
  // The state must have ALL of the rule's stages and NONE of its not_stages.
  for (const s of rule.stage ?? []) if (!state.stage.includes(s)) return false
  for (const s of rule.not_stage ?? []) if (state.stage.includes(s)) return false
  return true
}

/**
 * Whether a layer belongs to the net in `state` (`Net::FilterNet`): no rules → included; include
 * rules → included if ANY matches; exclude rules → excluded if ANY matches. Both kinds → error.
 */
export const layerIncluded = (layer: LayerParameter, state: ResolvedNetState): boolean => {
  const include = layer.include ?? []
  const exclude = layer.exclude ?? []
  if (include.length > 0 && exclude.length > 0) {
    throw new LayerConfigError({
      layer: layer.name ?? "",
      type: layer.type ?? "",
      reason: "specify either include rules or exclude rules; not both"
    })
  }
  if (include.length === 0) return !exclude.some((r) => stateMeetsRule(state, r))
  return include.some((r) => stateMeetsRule(state, r))
}

/**
 * The net as Caffe runs it in `state` (`Net::FilterNet` plus the phase inheritance of `Net::Init`):
 * excluded layers dropped, `state` set to the resolved state, and every layer without its own `phase`
 * given the net's phase.
 */
export const filterNet = (net: NetParameter, state: NetState | undefined = net.state): NetParameter => {
  const resolved = resolveNetState(state)
  const layers = (net.layer ?? []).filter((l) => layerIncluded(l, resolved))
  const stateOut: NetState = { phase: resolved.phase, level: resolved.level }
  if (resolved.stage.length > 0) stateOut.stage = [...resolved.stage]
  return {
    ...net,
    state: stateOut,
    layer: layers.map((l) => (l.phase === undefined ? { ...l, phase: resolved.phase } : l))
  }
}
