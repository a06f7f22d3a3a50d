/**
 * Bearer-token checks. Tokens are compared in constant time: both sides are hashed with
 * SHA-256 (equal lengths for timingSafeEqual) and every configured token is compared, so the
 * time taken says nothing about which token or how much of it matched. Tokens never appear
 * in logs or error messages.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HeraldError } from '../errors.js';

export type Access = 'open' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: open, read (read tokens when configured) or write (API tokens). */
    access?: Access;
  }
}


const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Decides for one request: throws UNAUTHORIZED (no token) or FORBIDDEN (wrong token). */
export interface Authorizer {
  check(access: Access, authorization: string | undefined): void;
}

/**
 * Writes need an API token when any is configured; reads need a read or an API token when
 * read tokens are configured. With no tokens, access is open (the default bind is loopback).
 */
export function createAuthorizer(auth: { apiTokens: readonly string[]; readTokens: readonly string[] }): Authorizer {
  const write = auth.apiTokens.map(sha);
  const read = [...auth.readTokens.map(sha), ...write];
  const matches = (given: Buffer, list: Buffer[]) => {
    let ok = false;
    for (const t of list) ok = timingSafeEqual(given, t) || ok;
    return ok;
  };
  return {
    check(access, authorization) {
      if (access === 'open') return;
      const list = access === 'write' ? write : auth.readTokens.length > 0 ? read : [];
      if (list.length === 0) return;
      const m = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (m === null) {
        throw new HeraldError('UNAUTHORIZED', `this ${access === 'write' ? 'write' : 'read'} needs a bearer token: send "Authorization: Bearer <token>"`);
      }
      if (!matches(sha(m[1]!), list)) {
        throw new HeraldError('FORBIDDEN', access === 'write'
          ? 'the bearer token is not accepted for writes; use one of the API tokens (auth.apiTokens / HERALD_API_TOKENS)'
          : 'the bearer token is not accepted; use a read or API token');
      }
    },
  };
}
