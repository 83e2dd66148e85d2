/**
 * The local server's bearer token: from `CHAOSDUCK_TOKEN`, or generated on first start and kept in the data
 * directory (readable by its owner only), so it survives restarts and can be printed for the user.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadOrCreateToken(dataDir: string, fromEnv = process.env.CHAOSDUCK_TOKEN): string {
  if (fromEnv) return fromEnv;
  const file = join(dataDir, 'token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const token = randomBytes(32).toString('base64url');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

/** True when `authorization` is `Bearer <token>`; compared in constant time. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
