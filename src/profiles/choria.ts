/** The `choria` profile (placeholder until its module lands). */
import { HeraldError } from '../errors.js';
import type { Profile } from './types.js';

export const choriaProfile: Profile = {
  name: 'choria',
  encode() {
    throw new HeraldError('INTERNAL', 'the choria profile is not available yet');
  },
};
