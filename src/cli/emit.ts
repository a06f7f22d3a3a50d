/** `herald emit`: not built yet; see the issue tracker. */
import { HeraldError } from '../errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw new HeraldError('INTERNAL', 'herald emit is not available in this version yet');
}
