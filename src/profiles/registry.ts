/**
 * The profile registry: the one list of profiles. Config validation, `herald emit` flags and
 * help, the decode chain of `view`/`tally`/`bridge` and the conformance suites all read it;
 * adding a profile is its module plus one line here.
 */
import { UsageError } from '../errors.js';
import { aliecsProfile } from './aliecs.js';
import { assistedProfile } from './assisted.js';
import { choriaProfile } from './choria.js';
import { cloudeventsProfile } from './cloudevents.js';
import { cloudstackProfile } from './cloudstack.js';
import type { Profile } from './types.js';

export const PROFILES = Object.freeze({
  cloudevents: cloudeventsProfile,
  aliecs: aliecsProfile,
  choria: choriaProfile,
  cloudstack: cloudstackProfile,
  assisted: assistedProfile,
} satisfies Record<string, Profile>);

export type ProfileName = keyof typeof PROFILES;

/** Every profile name, in registry order. */
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

/** The profile every sink and command uses when none is named. */
export const DEFAULT_PROFILE: ProfileName = 'cloudevents';

export function isProfileName(name: unknown): name is ProfileName {
  return typeof name === 'string' && Object.hasOwn(PROFILES, name);
}

/** The profile named `name`; a UsageError naming `flag` (or config key) otherwise. */
export function getProfile(name: string, flag = '--profile'): Profile {
  if (!isProfileName(name)) throw new UsageError(`${flag} must be one of ${PROFILE_NAMES.join(', ')}, got "${name}"`, [{ path: flag, message: `must be one of ${PROFILE_NAMES.join(', ')}` }]);
  return PROFILES[name];
}

/** The decode chain without a preference: profiles by their decodeOrder. */
export const DECODE_ORDER: readonly Profile[] = Object.values(PROFILES)
  .filter((p: Profile) => p.decode !== undefined)
  .sort((a: Profile, b: Profile) => a.decodeOrder - b.decodeOrder);
