import { workerDelta, workerPseudoGradient } from "./kernels.js"
import type { EasgdSettings } from "./settings.js"

/**
 * One update rule, as one value: what the worker sends, what the center does with it (at once, or in a
 * synchronous round of all workers), what the worker does with the reply, the rule's settings and
 * defaults, and the local optimiser it asks for. The center actor (src/center), the trainer loop
 * (src/trainer) and the simulator (src/simulator) all run a rule through this interface only, so a rule
 * cannot mean one thing in the runtime and another in the simulator.
 */

/**
 * What a worker sends at an exchange:
 * - "params": its parameters x_i (the elastic rules, the synchronous averaging rules);
 * - "progress": Δ = x_i − x_at_last_pull, what it learned since it last took x̃ (Downpour);
 * - "pseudo-gradient": Δ = x_at_last_pull − x_i, the same with DiLoCo's sign (a descent direction).
 */
export type WorkerMessage = "params" | "progress" | "pseudo-gradient"

/** An asynchronous exchange as the center's rule sees it. */
export interface AsyncExchange {
  /** What the worker sent (see WorkerMessage); read only. */
  readonly message: Float32Array
  /** Filled by the rule: what the worker receives (x̃ before or after the update, as the rule says). */
  readonly reply: Float32Array
  /** Center updates applied since this worker's previous reply (0 = it saw the latest x̃). */
  readonly staleness: number
  /** Exchanges applied before this one (drives the rate schedule). */
  readonly exchanges: number
  /**
   * Workers training now (registered, connected, not finished; this one included). Undefined: the
   * planned N. Rules that add the workers' progress scale it by the workers actually present, so a run
   * whose workers are lost or still starting does not slow down to a fraction of one worker's pace.
   */
  readonly workersPresent?: number
}

export type AsyncOutcome =
  /** Applied. `alpha`: the elastic rate the worker applies to the reply; `distance`: reported per worker. */
  | { readonly applied: true; readonly alpha: number; readonly distance: number }
  /** The message was not finite: x̃ is untouched and the reply holds x̃ (the worker restarts from it). */
  | { readonly applied: false }

/** One member's reply to a synchronous round: the parameters it continues from (taken as they are). */
export interface RoundReply {
  readonly reply: Float32Array
  readonly distance: number
}

/** The state a rule keeps at the center besides x̃ (outer momentum), saved in checkpoints. */
export interface RuleCenterState {
  readonly buffers: Readonly<Record<string, Float32Array>>
}

interface CenterSide {
  /** State to persist in a checkpoint (none for the stateless rules). */
  save(): RuleCenterState | undefined
  /** Restores what save() gave (a checkpoint of the same rule). */
  restore(state: RuleCenterState): void
}

export interface AsyncRuleCenter extends CenterSide {
  /** Applies one worker's message to x̃ in place, the moment it arrives. */
  exchange(center: Float32Array, e: AsyncExchange): AsyncOutcome
}

export interface SyncRuleCenter extends CenterSide {
  /** Applies a round (one finite message per active worker) to x̃ in place; replies in members' order. */
  round(center: Float32Array, messages: ReadonlyArray<Float32Array>, exchanges: number): ReadonlyArray<RoundReply>
}

/** A setting by its snake_case name (the CLI flag with dashes, the settings-file field). */
export type SettingName = string

interface RuleCommon<Name extends string> {
  readonly name: Name
  /** One line for `--help` and the README. */
  readonly summary: string
  readonly sends: WorkerMessage
  /** Settings the rule reads (snake_case), besides period and adaptive_period which every rule honours. */
  readonly settings: ReadonlyArray<SettingName>
  /** Defaults of this rule that differ from the global ones (the user's values still win). */
  readonly defaults: Partial<EasgdSettings>
  /** Defaults that depend on the run's number of workers, over `defaults` where that number is known. */
  readonly defaultsFor?: (workers: number) => Partial<EasgdSettings>
  /** Runs with exactly one worker. */
  readonly singleWorker?: boolean
  /** The local optimiser the rule asks workers to run instead of the solver prototxt's (EAMSGD: Nesterov). */
  localSolver?(s: EasgdSettings): { readonly type: string; readonly momentum: number } | undefined
  /**
   * The worker's step after a reply: returns the parameters the worker continues from — `reply` itself
   * when it takes x̃ as it is, else `params` updated in place.
   */
  workerStep(params: Float32Array, reply: Float32Array, alpha: number): Float32Array
}

export interface AsyncRule<Name extends string = string> extends RuleCommon<Name> {
  readonly synchronous: false
  center(settings: EasgdSettings, workers: number, paramCount: number): AsyncRuleCenter
}

export interface SyncRule<Name extends string = string> extends RuleCommon<Name> {
  readonly synchronous: true
  center(settings: EasgdSettings, workers: number, paramCount: number): SyncRuleCenter
}

export type UpdateRule<Name extends string = string> = AsyncRule<Name> | SyncRule<Name>

/**
 * The worker's message for `kind`: x_i itself, or its progress since the last pull written into `out`.
 * Returns the array to send.
 */
export const composeMessage = (kind: WorkerMessage, params: Float32Array, lastPull: Float32Array, out: Float32Array): Float32Array => {
  if (kind === "params") return params
  if (kind === "progress") workerDelta(params, lastPull, out)
  else workerPseudoGradient(params, lastPull, out)
  return out
}

/** The worker step of the rules whose reply is x̃ to take as it is (Downpour, DiLoCo, the rounds). */
export const takeReply = (_params: Float32Array, reply: Float32Array): Float32Array => reply

/** Staleness-aware scaling (Zhang et al. 2016): a rate divided by 1 + the number of updates missed. */
export const stalenessScale = (s: EasgdSettings, staleness: number): number => (s.stalenessAware ? 1 / (1 + Math.max(0, staleness)) : 1)

/** A center side with no state of its own. */
export const stateless = { save: () => undefined, restore: () => {} } as const
