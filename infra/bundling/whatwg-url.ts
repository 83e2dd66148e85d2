/**
 * What the Lambda bundles get for `whatwg-url` (see `ControlPlaneFunction`'s esbuild alias). node-fetch 2, which the
 * Kubernetes client uses, takes `URL` from `node:url` and falls back to whatwg-url's only where Node has none;
 * Node 22 always has one, so the package (and tr46's 260 KB Unicode table under it, which also loads the deprecated
 * `punycode` module) is never used. Bundling Node's own in its place keeps about 290 KB out of each Kubernetes bundle.
 */
import { URL } from 'node:url';

export { URL };
export default { URL };
