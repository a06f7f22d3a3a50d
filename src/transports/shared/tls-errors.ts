/**
 * What Node.js's TLS layer says when a server's certificate fails verification, found anywhere
 * in an error's cause chain. The Kafka and NATS clients both bury it under a generic
 * connection error; each transport turns it into a message with its own settings to change.
 */

export interface ErrorLike {
  message?: unknown;
  code?: unknown;
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The error and everything below it (`errors` of aggregates, `cause`), depth-first. */
export function errorChain(err: unknown, out: ErrorLike[] = [], depth = 0): ErrorLike[] {
  if (err === null || typeof err !== 'object' || depth > 10) return out;
  const e = err as ErrorLike;
  out.push(e);
  if (Array.isArray(e.errors)) for (const x of e.errors) errorChain(x, out, depth + 1);
  if (e.cause !== undefined) errorChain(e.cause, out, depth + 1);
  return out;
}

/** A field of an error-like object as a string ('' when it is not one). */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Node.js / OpenSSL codes of a server certificate that is not trusted, and what each means. */
const UNTRUSTED: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in chain',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
};

const EXPIRED: Record<string, string> = {
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not yet valid',
};

export interface CertificateProblem {
  /** untrusted: no configured CA signed it; expired: outside its validity; altname: names another host. */
  kind: 'untrusted' | 'expired' | 'altname';
  /** OpenSSL's reason (untrusted), "has expired" / "is not yet valid", or the host-name detail (may be empty). */
  reason: string;
}

/** The server-certificate failure in `err`'s chain, if there is one. */
export function certificateProblem(err: unknown): CertificateProblem | undefined {
  const all = errorChain(err);
  const codes = all.map((e) => str(e.code));
  const untrusted = codes.find((c) => UNTRUSTED[c] !== undefined);
  if (untrusted !== undefined) return { kind: 'untrusted', reason: UNTRUSTED[untrusted]! };
  const expired = codes.find((c) => EXPIRED[c] !== undefined);
  if (expired !== undefined) return { kind: 'expired', reason: EXPIRED[expired]! };
  if (codes.includes('ERR_TLS_CERT_ALTNAME_INVALID')) {
    return { kind: 'altname', reason: all.map((e) => str(e.message)).find((m) => m.includes('Host:') || m.includes('IP:')) ?? '' };
  }
  return undefined;
}

/** What to tell the user about `cert`; `caKey` is the setting that names the trusted CA (`tls.ca`, `NATS_CA`). */
export function describeCertificateProblem(cert: CertificateProblem, caKey: string): string {
  if (cert.kind === 'untrusted') return `the server's certificate is not trusted (${cert.reason}); set ${caKey} to the PEM file of the CA that signed it`;
  if (cert.kind === 'expired') return `the server's certificate ${cert.reason}; renew it or check the clock`;
  return `the server's certificate does not name the host connected to${cert.reason !== '' ? ` (${cert.reason})` : ''}; connect by a name the certificate lists`;
}
