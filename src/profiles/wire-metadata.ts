/**
 * The `wireMetadata` profile option of the ecosystem profiles that reproduce an upstream
 * system which publishes bare messages (aliecs, cloudstack): `upstream` (default) sends exactly
 * what the upstream sends, `herald` lets the transports add Herald's own metadata again (the
 * AMQP messageId a consumer can de-duplicate by, the publish timestamp, a content-type header).
 */
import { Type } from 'typebox';
import type { WireMetadata } from '../messages.js';
import type { EncodeContext } from './types.js';

/** The option's TypeBox schema (a `profileOptions` key). */
export const wireMetadataOption = Type.Optional(Type.Union([Type.Literal('upstream'), Type.Literal('herald')], {
  description: 'upstream (default): no metadata the upstream system does not send; herald: also Herald\'s own (AMQP messageId and timestamp, content-type header)',
}));

/** The OutgoingMessage.metadata a sink's profileOptions ask for. */
export const wireMetadata = (ctx: EncodeContext): WireMetadata => (ctx.options?.wireMetadata === 'herald' ? 'herald' : 'none');
