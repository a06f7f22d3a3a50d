/** The `cloudstack` profile (placeholder until its module lands). */
import { HeraldError } from '../errors.js';
import type { Profile } from './types.js';

export const cloudstackProfile: Profile = {
  name: 'cloudstack',
  encode() {
    throw new HeraldError('INTERNAL', 'the cloudstack profile is not available yet');
  },
};
