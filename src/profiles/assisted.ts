/** The `assisted` profile (placeholder until its module lands). */
import { HeraldError } from '../errors.js';
import type { Profile } from './types.js';

export const assistedProfile: Profile = {
  name: 'assisted',
  encode() {
    throw new HeraldError('INTERNAL', 'the assisted profile is not available yet');
  },
};
