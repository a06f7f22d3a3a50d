/** The `cloudevents` profile (placeholder until its module lands). */
import { HeraldError } from '../errors.js';
import type { Profile } from './types.js';

export const cloudeventsProfile: Profile = {
  name: 'cloudevents',
  encode() {
    throw new HeraldError('INTERNAL', 'the cloudevents profile is not available yet');
  },
};
