/**
 * What every profile's `herald emit` support shares: reading string flags and passing the
 * common attributes (id, time, severity, subject) through. The profile-specific parts live in
 * each profile (its `emit`), and createEvent validates the result like any other event.
 */
import type { EventInput } from '../events/schema.js';
import type { EmitFlags } from './types.js';

/** A flag's string value, if given. */
export const flagString = (flags: EmitFlags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

/** Common attributes every profile passes through (createEvent validates them). */
export function commonEmitFields(flags: EmitFlags): Partial<EventInput> {
  return {
    ...(flags.id !== undefined && { id: flags.id }),
    ...(flags.time !== undefined && { time: flags.time }),
    ...(flags.severity !== undefined && { severity: flags.severity as EventInput['severity'] }),
    ...(flags.subject !== undefined && { subject: flags.subject }),
  };
}
