/** The `aliecs` profile (placeholder until its module lands). */
import { HeraldError } from '../errors.js';
import type { Profile } from './types.js';

export const aliecsProfile: Profile = {
  name: 'aliecs',
  encode() {
    throw new HeraldError('INTERNAL', 'the aliecs profile is not available yet');
  },
};
