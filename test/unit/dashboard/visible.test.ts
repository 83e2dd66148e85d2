/**
 * Polling only while the page is visible (dashboard/src/visible.ts): paused when the page is hidden, read at once and
 * resumed when it shows again, and stopped for good by what it returns. Timers are vitest's fake ones; the page's
 * visibility is an EventTarget with a `hidden` flag, as a document has.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { everyWhileVisible } from '../../../dashboard/src/visible.js';

class Page extends EventTarget {
  hidden = false;
  show(hidden: boolean) {
    this.hidden = hidden;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

describe('polling while the page is visible', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs every interval while visible, not at all while hidden, at once when shown again, and never after it is stopped', () => {
    const page = new Page();
    const run = vi.fn();
    const stop = everyWhileVisible(page, run, 1000);
    vi.advanceTimersByTime(3000);
    expect(run).toHaveBeenCalledTimes(3);

    page.show(true);
    vi.advanceTimersByTime(10_000);
    expect(run).toHaveBeenCalledTimes(3);

    page.show(false);
    expect(run).toHaveBeenCalledTimes(4);
    // A second "visible" (no change) does not start a second timer.
    page.show(false);
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(5);

    stop();
    page.show(true);
    page.show(false);
    vi.advanceTimersByTime(5000);
    expect(run).toHaveBeenCalledTimes(5);
  });

  it('waits for the page to show when started hidden', () => {
    const page = new Page();
    page.hidden = true;
    const run = vi.fn();
    const stop = everyWhileVisible(page, run, 1000);
    vi.advanceTimersByTime(5000);
    expect(run).not.toHaveBeenCalled();
    page.show(false);
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(2);
    stop();
  });
});
