/**
 * Polling that stops while the page is hidden (another browser tab in front, a minimised window): every read is an API
 * call (in AWS a Lambda and describe calls each), and nobody is looking. When the page shows again it reads at once and
 * goes on every `ms`.
 */
/** What is read of the page's document (given, so the pure part is tested without a browser). */
export interface Visibility {
  readonly hidden: boolean;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

/** Calls `run` every `ms` while `page` (the document) is visible; returns what stops it. */
export function everyWhileVisible(page: Visibility, run: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setInterval> | undefined;
  const start = () => {
    if (timer === undefined) timer = setInterval(run, ms);
  };
  const pause = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const onVisibility = () => {
    if (page.hidden) return pause();
    if (timer !== undefined) return;
    run();
    start();
  };
  page.addEventListener('visibilitychange', onVisibility);
  if (!page.hidden) start();
  return () => {
    pause();
    page.removeEventListener('visibilitychange', onVisibility);
  };
}
