/**
 * `chaosduck dashboard --api <RestApiUrl> [--ws <WebSocketUrl>] [--region <region>] [--port <port>]`: the dashboard of a
 * deployed stack, on this machine. The page is served on 127.0.0.1 and every call it makes is signed with the user's
 * own AWS credentials (local/signing-proxy.ts), so nothing public is deployed for it.
 */
import { ConfigurationError } from '../shared/errors.js';
import { watchInterrupts } from './interrupt.js';

export interface DashboardOptions {
  api: string;
  ws?: string;
  region?: string;
  port: number;
}

const EXIT_NO_CREDENTIALS = 1;
/**
 * Lets `--api`/`--ws` be plain `http://127.0.0.1:…`/`ws://127.0.0.1:…`: the tests' stand-ins for API Gateway. Anything
 * else must be https/wss, since the requests carry signatures made with the user's credentials.
 */
const ALLOW_LOOPBACK_HTTP = 'CHAOSDUCK_DASHBOARD_ALLOW_LOOPBACK_HTTP';

/** Serves until a signal; returns the exit code. */
export async function dashboard(options: DashboardOptions): Promise<number> {
  const proxy = await import('../local/signing-proxy.js');
  const allowLoopbackHttp = process.env[ALLOW_LOOPBACK_HTTP] === '1';
  const api = proxy.apiEndpoint(options.api, '--api', { allowLoopbackHttp });
  const webSocket = options.ws === undefined ? undefined : proxy.apiEndpoint(options.ws, '--ws', { allowLoopbackHttp });
  const region = signingRegion(api, webSocket, options.region, proxy.regionOf);
  for (const url of [api, webSocket]) {
    if (url && !proxy.regionOf(url) && url.hostname !== '127.0.0.1') {
      console.warn(`note: ${url.host} is not an execute-api host (a custom domain name?): requests to it are signed for execute-api in ${region}`);
    }
  }

  // Once at start, so a missing or expired sign-in is said before the page is opened; each request asks again, and
  // the SDK renews what it can (SSO, assumed roles) as they expire.
  const credentials = proxy.userCredentials();
  let identity: Awaited<ReturnType<typeof credentials>>;
  try {
    identity = await credentials();
  } catch (error) {
    console.error(proxy.credentialsProblem(error));
    return EXIT_NO_CREDENTIALS;
  }

  const interruption = watchInterrupts('closing the dashboard proxy');
  try {
    const server = await proxy.startSigningProxy({ api, ...(webSocket ? { webSocket } : {}), region, credentials, port: options.port });
    console.log(`ChaosDuck dashboard   ${server.url}/   (open it in a browser; log in with the token below)`);
    console.log(`token                 ${server.token}   (new at every start; send as: Authorization: Bearer <token>)`);
    console.log(`REST API              ${api.href}   (each call signed with SigV4 for execute-api in ${region})`);
    console.log(webSocket ? `WebSocket API         ${webSocket.href}   (signed $connect)` : `WebSocket API         not given: ${proxy.LIVE_PROGRESS_NEEDS_WS}`);
    const expiry = identity.expiration ? `, valid until ${identity.expiration.toISOString()} (renewed as the SDK can)` : '';
    console.log(`AWS credentials       access key ${proxy.accessKeyHint(identity)}${expiry}`);
    await interruption.received;
    await server.close();
    return interruption.exitCode() ?? 0;
  } finally {
    interruption.dispose();
  }
}

/**
 * The region to sign for: the one the API's host names; `--region` for a host that names none (a custom domain, a
 * test server), and refused when it contradicts the host.
 */
function signingRegion(api: URL, webSocket: URL | undefined, given: string | undefined, regionOf: (url: URL) => string | undefined): string {
  const named = regionOf(api);
  if (given !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(given)) throw new ConfigurationError(`--region ${JSON.stringify(given)} is not an AWS region (like eu-west-1)`);
  if (given !== undefined && named !== undefined && given !== named) throw new ConfigurationError(`--region ${given} is not the API's region: ${api.host} is in ${named}`);
  const region = named ?? given;
  if (!region) throw new ConfigurationError(`${api.host} does not name its region (it is not <id>.execute-api.<region>.amazonaws.com): give --region`);
  const webSocketRegion = webSocket && regionOf(webSocket);
  if (webSocketRegion && webSocketRegion !== region) throw new ConfigurationError(`--ws is in ${webSocketRegion} and --api in ${region}: give the two URLs of one stack`);
  return region;
}
