/**
 * Builds a canonical event input from `herald emit` flags for a profile with its own
 * vocabulary (choria: --identity/--component/--version; cloudstack: category fields).
 * The cloudevents profile needs nothing here: its flags map 1:1 to the event.
 */
import type { EventInput } from '../events/schema.js';
import type { ProfileName } from './types.js';

/** Flags of `herald emit` as parsed (string values; `data` already parsed JSON). */
export interface EmitFlags {
  type?: string;
  source?: string;
  subject?: string;
  id?: string;
  time?: string;
  severity?: string;
  entity?: { kind: string; id: string };
  key?: string;
  data?: unknown;
  identity?: string;
  component?: string;
  version?: string;
  [flag: string]: unknown;
}

/** Profile-specific flags `herald emit` accepts (besides the common ones). */
export const PROFILE_EMIT_FLAGS: Readonly<Record<string, readonly string[]>> = {
  choria: ['identity', 'component', 'version', 'new-version', 'governor', 'sequence', 'event-type', 'machine', 'transition', 'from-state', 'to-state'],
};

/**
 * Returns the canonical event input for `profile`, or undefined when the profile uses the
 * common flags as they are. Throws UsageError naming the flag when a required one is missing.
 */
export function eventInputFromFlags(_profile: ProfileName, _flags: EmitFlags): EventInput | undefined {
  return undefined;
}
