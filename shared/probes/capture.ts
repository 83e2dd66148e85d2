/**
 * Output capture shared by the probe types: what a probe measures can be arbitrarily large (a chatty command, a big
 * response), but a journal entry and a text check need only the beginning.
 */

/** How much of a body or output stream goes into the journal. */
export const EXCERPT_CHARS = 200;

/**
 * Keeps the first `limit` bytes and drops the rest. The caller keeps feeding it to the end, so the source is drained
 * (a child blocked on a full pipe never exits; a response read halfway has no full-body latency).
 */
export class BoundedCapture {
  private readonly chunks: Uint8Array[] = [];
  private kept = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    const room = this.limit - this.kept;
    if (room <= 0) return;
    const part = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.byteLength;
  }

  text(): string {
    // Not fatal: a cut at the limit can split a UTF-8 sequence, and probes may read binary output.
    return new TextDecoder().decode(Buffer.concat(this.chunks));
  }
}

export function excerpt(text: string): string {
  return text.slice(0, EXCERPT_CHARS);
}
