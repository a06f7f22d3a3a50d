/** The profile registry: every sink, `herald emit` and `herald view` look profiles up here. */
import { UsageError } from '../errors.js';
import { aliecsProfile } from './aliecs.js';
import { assistedProfile } from './assisted.js';
import { choriaProfile } from './choria.js';
import { cloudeventsProfile } from './cloudevents.js';
import { cloudstackProfile } from './cloudstack.js';
import type { Profile, ProfileName } from './types.js';

export * from './types.js';

export const PROFILES: Readonly<Record<ProfileName, Profile>> = Object.freeze({
  cloudevents: cloudeventsProfile,
  aliecs: aliecsProfile,
  choria: choriaProfile,
  cloudstack: cloudstackProfile,
  assisted: assistedProfile,
});

export function getProfile(name: string, flag = '--profile'): Profile {
  const p = (PROFILES as Record<string, Profile>)[name];
  if (!p) throw new UsageError(`${flag} must be one of ${Object.keys(PROFILES).join(', ')}, got "${name}"`, [{ path: flag, message: `must be one of ${Object.keys(PROFILES).join(', ')}` }]);
  return p;
}
