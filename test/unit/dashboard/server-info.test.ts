/**
 * What the page reads of GET /dashboard.json (dashboard/src/server-info.ts): the answer as the servers give it, and the
 * defaults for what is missing or of another shape (an older server answers 404: the page must work the same).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_INFO, serverInfoOf } from '../../../dashboard/src/server-info.js';

describe('the server info the dashboard reads at start', () => {
  it('reads what serve and the proxy answer', () => {
    expect(serverInfoOf({ served_by: 'serve', token_hint: 'the token `chaosduck serve` printed', live_progress: { available: true } })).toEqual({
      servedBy: 'serve',
      tokenHint: 'the token `chaosduck serve` printed',
      live: { available: true },
    });
    expect(
      serverInfoOf({ served_by: 'dashboard', token_hint: 'the token chaosduck dashboard printed', live_progress: { available: false, reason: 'start chaosduck dashboard with --ws <WebSocketUrl> for live progress' } }),
    ).toEqual({
      servedBy: 'dashboard',
      tokenHint: 'the token chaosduck dashboard printed',
      live: { available: false, reason: 'start chaosduck dashboard with --ws <WebSocketUrl> for live progress' },
    });
  });

  it('keeps the defaults for what is missing or not of its shape: serve, a generic hint, live progress on', () => {
    expect(DEFAULT_SERVER_INFO).toEqual({ servedBy: 'serve', tokenHint: 'the token printed when the server started', live: { available: true } });
    for (const body of [null, 'text', [], {}, { served_by: 'elsewhere', token_hint: '  ', live_progress: 'yes' }]) expect(serverInfoOf(body)).toEqual(DEFAULT_SERVER_INFO);
    // Live progress is off only when said so, with a reason always to show.
    expect(serverInfoOf({ live_progress: { available: false } }).live).toEqual({ available: false, reason: 'the server does not forward the live progress feed' });
  });
});
