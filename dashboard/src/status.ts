/** Every status is shown as a word with its colour (and a sign), never by colour alone. */
import { html } from './html.js';

type Tone = 'good' | 'bad' | 'warn' | 'info' | 'neutral';

const TONES: Record<string, { tone: Tone; sign: string }> = {
  completed: { tone: 'good', sign: '✓' },
  done: { tone: 'good', sign: '✓' },
  succeeded: { tone: 'good', sign: '✓' },
  live: { tone: 'good', sign: '●' },
  running: { tone: 'info', sign: '●' },
  pending: { tone: 'neutral', sign: '○' },
  waiting: { tone: 'neutral', sign: '○' },
  connecting: { tone: 'neutral', sign: '○' },
  reconnecting: { tone: 'warn', sign: '↻' },
  refused: { tone: 'warn', sign: '✗' },
  unavailable: { tone: 'neutral', sign: '↻' },
  rolling_back: { tone: 'warn', sign: '↺' },
  rolled_back: { tone: 'warn', sign: '↺' },
  aborted: { tone: 'neutral', sign: '–' },
  skipped: { tone: 'neutral', sign: '–' },
  failed: { tone: 'bad', sign: '✗' },
  emergency_stopped: { tone: 'bad', sign: '■' },
};

/** `rolled_back` reads "rolled back". */
export const wordsOf = (status: string): string => status.replaceAll('_', ' ');

export function StatusTag({ status, label }: { status: string; label?: string }) {
  const { tone, sign } = TONES[status] ?? { tone: 'neutral', sign: '·' };
  return html`<span class=${`tag ${tone}`} data-status=${status}><span aria-hidden="true">${sign} </span>${label ?? wordsOf(status)}</span>`;
}
