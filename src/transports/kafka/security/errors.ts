/**
 * Turns the TLS and SASL failures of @platformatic/kafka into HeraldError BROKER_AUTH errors
 * that say what went wrong and which setting fixes it. The client reports them as a generic
 * "Connection to HOST:PORT failed." NetworkError (retryable!) with the real reason buried in
 * its cause chain; without this a wrong password or an untrusted CA reads like an outage.
 * Messages name the mechanism, the user and the broker, never the password.
 */
import { HeraldError } from '../../../errors.js';
import { certificateProblem, errorChain, str } from '../../shared/tls-errors.js';
import type { KafkaSecurity } from './settings.js';

/** Where the brokers are, for messages (`127.0.0.1:9093`). */
function at(brokers: readonly string[] | undefined): string {
  return brokers !== undefined && brokers.length > 0 ? ` at ${brokers.join(',')}` : '';
}

/**
 * Classifies a client error as a TLS or SASL failure. Returns a BROKER_AUTH HeraldError (with
 * the original as `cause`) when it is one, otherwise undefined, so callers can fall back to
 * their general mapping (`toHeraldError`). `security` supplies the mechanism, user and which
 * setting to change; `brokers` the addresses for the message.
 */
export function classifyKafkaSecurityError(err: unknown, security: KafkaSecurity | undefined, brokers?: readonly string[]): HeraldError | undefined {
  if (err instanceof HeraldError) return undefined;
  const all = errorChain(err);
  const codes = all.map((e) => str(e.code));
  const ids = all.map((e) => str(e.apiId));
  const messages = all.map((e) => str(e.message));
  const where = at(brokers);
  const sasl = security?.sasl;
  const caHint = security?.tls?.caFile !== undefined
    ? `check that ${security.tls.caFile.path} (${security.tls.caFile.from}) is the CA that signed the broker certificate`
    : 'set ssl.truststore.location (or ssl.ca.location, or HERALD_KAFKA_CA_FILE) to the PEM file of its CA';

  const cert = certificateProblem(err);
  if (cert?.kind === 'untrusted') {
    return new HeraldError('BROKER_AUTH', `TLS: the broker's certificate is not trusted (${cert.reason})${where}; ${caHint}`, { cause: err });
  }
  if (cert?.kind === 'expired') {
    return new HeraldError('BROKER_AUTH', `TLS: the broker certificate ${cert.reason}${where}; renew the broker certificate or check the clock`, { cause: err });
  }
  if (cert?.kind === 'altname') {
    return new HeraldError('BROKER_AUTH', `TLS: the broker's certificate does not name the host connected to${where}${cert.reason !== '' ? ` (${cert.reason})` : ''}; connect by a name the certificate lists, or set ssl.endpoint.identification.algorithm= (empty) to skip the host name check`, { cause: err });
  }
  if (codes.some((c) => /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|HANDSHAKE_FAILURE)$/.test(c))) {
    const hint = security?.tls?.certFile === undefined && security?.tls?.pkcs12File === undefined
      ? 'the listener requires a client certificate: set ssl.certificate.location and ssl.key.location (or ssl.keystore.location, or HERALD_KAFKA_CERT_FILE and HERALD_KAFKA_KEY_FILE)'
      : 'check that the client certificate is signed by a CA the broker trusts (its ssl.truststore)';
    return new HeraldError('BROKER_AUTH', `TLS: the broker refused the client certificate${where}; ${hint}`, { cause: err });
  }
  if (codes.includes('ERR_SSL_WRONG_VERSION_NUMBER') || codes.includes('ERR_SSL_PACKET_LENGTH_TOO_LONG') || messages.some((m) => m.includes('Please verify the broker supports TLS'))) {
    return new HeraldError('BROKER_AUTH', `TLS: the TLS handshake failed${where}; is this a TLS listener? use security.protocol PLAINTEXT or SASL_PLAINTEXT for a plain listener`, { cause: err });
  }

  const authFailed = ids.includes('SASL_AUTHENTICATION_FAILED') || codes.includes('PLT_KFK_AUTHENTICATION');
  if (authFailed && messages.some((m) => m.includes('Cannot find a suitable SASL mechanism'))) {
    const mech = sasl?.mechanism ?? 'the configured mechanism';
    return new HeraldError('BROKER_AUTH', `SASL: the broker does not accept ${mech}${where}; check sasl.mechanism against the listener's sasl.enabled.mechanisms, and that the listener is a SASL one`, { cause: err });
  }
  if (ids.includes('UNSUPPORTED_SASL_MECHANISM')) {
    return new HeraldError('BROKER_AUTH', `SASL: the broker does not enable ${sasl?.mechanism ?? 'this mechanism'}${where}; check sasl.mechanism against the listener's sasl.enabled.mechanisms`, { cause: err });
  }
  if (authFailed) {
    const who = sasl !== undefined ? ` (${sasl.mechanism}) for user ${sasl.username}` : '';
    const from = sasl !== undefined ? ` (given by ${sasl.from.username === sasl.from.password ? sasl.from.password : `${sasl.from.username} and ${sasl.from.password}`})` : '';
    return new HeraldError('BROKER_AUTH', `authentication failed${who}${where}: check the username and password${from}`, { cause: err });
  }
  if (ids.includes('ILLEGAL_SASL_STATE')) {
    return new HeraldError('BROKER_AUTH', `SASL: the listener${where} does not speak SASL; check security.protocol (SSL or PLAINTEXT for a listener without SASL)`, { cause: err });
  }
  // The broker drops a connection without a word when a plain client talks to a TLS listener,
  // and (TLS 1.3) when a required client certificate is missing. Every attempt ending in
  // "Connection closed" is the only trace; say what usually causes it, but as a guess and
  // with the outage code, since a broker going away looks the same. Only with explicit
  // security settings: a plain set-up keeps the general outage mapping.
  const leaves = all.filter((e) => !Array.isArray(e.errors) && e.cause === undefined);
  if (security !== undefined && leaves.length > 0 && leaves.every((e) => str(e.message) === 'Connection closed')) {
    const guess = security.tls === undefined
      ? `if the listener uses TLS, set security.protocol to SSL or SASL_SSL (now ${security.protocol})`
      : security.tls.certFile === undefined && security.tls.pkcs12File === undefined
        ? 'if the listener requires a client certificate (ssl.client.auth=required), set ssl.certificate.location and ssl.key.location (or HERALD_KAFKA_CERT_FILE and HERALD_KAFKA_KEY_FILE)'
        : 'check that the broker trusts the CA of the client certificate';
    return new HeraldError('BROKER_UNAVAILABLE', `the broker closed the connection during the first request${where}; ${guess}`, { cause: err });
  }
  return undefined;
}
