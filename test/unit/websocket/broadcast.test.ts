/**
 * The broadcast core and handler, with the embedded runtime's real connection store (SQLite, in memory) and a recording sender in place of the
 * Management API: who receives what, gone connections deleted, one connection's failure keeping no one else from
 * the event, and the two input shapes (one EventBridge event, an SQS FIFO batch) parsed and delivered in order — a
 * batch that cannot be broadcast whole reports the records to retry from the first undelivered one on.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../../functions/ws-broadcast/handler.js';
import { broadcast } from '../../../functions/ws-broadcast/core.js';
import { SqliteConnectionStore } from '../../../local/sqlite/connections.js';
import { openDatabase, type Database } from '../../../local/sqlite/database.js';
import { ValidationError } from '../../../shared/errors.js';
import type { JournalEvent } from '../../../shared/model/lifecycle.js';
import type { ConnectionStore } from '../../../shared/websocket/connections.js';
import type { ConnectionSender, PostResult } from '../../../shared/websocket/sender.js';

const context = { functionName: 'ws-broadcast', awsRequestId: 'req-1' } as Context;
let db: Database;
let connections: ConnectionStore;
let next = 0;
const unique = (prefix: string) => `${prefix}-${++next}-${Date.now()}`;

beforeAll(async () => {
  db = openDatabase();
  connections = new SqliteConnectionStore(db);
});
afterAll(async () => {
  db.close();
});

/** Records every post; connections listed in `answers` answer that way instead of receiving. */
function recordingSender(answers: Record<string, PostResult | Error> = {}): ConnectionSender & { posts: { connectionId: string; data: unknown }[] } {
  const posts: { connectionId: string; data: unknown }[] = [];
  return {
    posts,
    async post(connectionId, data) {
      const answer = answers[connectionId];
      if (answer instanceof Error) throw answer;
      if (answer === 'gone') return 'gone';
      posts.push({ connectionId, data: JSON.parse(data) });
      return 'sent';
    },
  };
}

function progress(experimentId: string, type: JournalEvent['type'], second = 0): JournalEvent {
  return { experimentId, type, at: new Date(Date.UTC(2026, 2, 1, 10, 0, second)).toISOString(), detail: { second } };
}

const eventBridge = (event: JournalEvent) => ({ source: 'chaosduck.lifecycle', 'detail-type': event.type, detail: event });
/** An SQS batch as the event source mapping delivers it: each record's body is the EventBridge event, message ids msg-1… */
const sqsBatch = (events: JournalEvent[]) => ({ Records: events.map((e, i) => ({ messageId: `msg-${i + 1}`, body: JSON.stringify(eventBridge(e)) })) });

describe('broadcast', () => {
  it('posts the event to each subscriber of its experiment and of all experiments, and to no one else', async () => {
    // Prepare
    const [experiment, other] = [unique('exp'), unique('exp')];
    const [direct, everything, elsewhere] = [unique('direct'), unique('all'), unique('elsewhere')];
    await connections.connect(direct, [experiment]);
    await connections.connect(everything, ['*']);
    await connections.connect(elsewhere, [other]);
    const sender = recordingSender();
    const event = progress(experiment, 'phase.started');

    // Act
    const result = await broadcast([event], { connections, sender });

    // Assess
    expect(result).toEqual({ sent: 2, gone: 0, failed: 0 });
    expect(sender.posts.map((p) => p.connectionId).sort()).toEqual([direct, everything].sort());
    expect(sender.posts.every((p) => JSON.stringify(p.data) === JSON.stringify(event))).toBe(true);
    await connections.delete(everything);
  });

  it('deletes a gone connection, and one failing connection keeps no one else from the event', async () => {
    // Prepare
    const experiment = unique('exp');
    const [gone, failing, healthy] = [unique('gone'), unique('failing'), unique('healthy')];
    for (const id of [gone, failing, healthy]) await connections.connect(id, [experiment]);
    const sender = recordingSender({ [gone]: 'gone', [failing]: new Error('throttled') });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    // Act
    const first = await broadcast([progress(experiment, 'fault.applied')], { connections, sender });
    const second = await broadcast([progress(experiment, 'rollback.step', 1)], { connections, sender });

    // Assess: the healthy one got both events; the gone one was deleted after the first; the failing one was kept.
    expect(first).toEqual({ sent: 1, gone: 1, failed: 1 });
    expect(second).toEqual({ sent: 1, gone: 0, failed: 1 });
    expect(sender.posts.map((p) => p.connectionId)).toEqual([healthy, healthy]);
    expect(await connections.get(gone)).toBeUndefined();
    expect(await connections.get(failing)).toBeDefined();
    expect(logged).toHaveBeenCalledWith(expect.stringContaining(`connection ${failing}: throttled`));
    logged.mockRestore();
  });

  it('handles one EventBridge event, and an SQS FIFO batch of them in record order', async () => {
    // Prepare: a batch as the FIFO queue hands it over, two experiments (message groups) interleaved.
    const [experiment, other] = [unique('exp'), unique('exp')];
    const watcher = unique('watcher');
    await connections.connect(watcher, [experiment, other]);
    const sender = recordingSender();
    const handler = createHandler({ connections, sender });
    const events = [
      progress(experiment, 'phase.started', 1),
      progress(other, 'phase.started', 1),
      progress(experiment, 'probe.result', 2),
      progress(other, 'probe.result', 2),
      progress(experiment, 'phase.completed', 3),
    ];

    // Act
    const single = await handler(eventBridge(progress(experiment, 'experiment.started', 0)), context);
    const result = await handler(sqsBatch(events), context);

    // Assess: every record delivered, in the order of the records; nothing to retry.
    expect(single).toEqual({ sent: 1, gone: 0, failed: 0 });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sender.posts.map((p) => `${(p.data as JournalEvent).experimentId === other ? 'other' : 'exp'} ${(p.data as JournalEvent).type}`)).toEqual([
      'exp experiment.started',
      'exp phase.started',
      'other phase.started',
      'exp probe.result',
      'other probe.result',
      'exp phase.completed',
    ]);
    await connections.delete(watcher);
  });

  it('reports the record it could not broadcast and every one after it, so a retry resumes there, in order and without repeats', async () => {
    // Prepare: the subscriber lookup fails for the second record only.
    const experiment = unique('exp');
    const watcher = unique('watcher');
    await connections.connect(watcher, [experiment]);
    const sender = recordingSender();
    const handler = createHandler({ connections, sender });
    const events = [progress(experiment, 'phase.started', 1), progress(experiment, 'probe.result', 2), progress(experiment, 'phase.completed', 3)];
    const batch = sqsBatch(events);
    const real = connections.subscribers.bind(connections);
    const lookup = vi
      .spyOn(connections, 'subscribers')
      .mockImplementationOnce(real)
      .mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    // Act: the first delivery, then the redelivery of what it reported (as SQS would, the group blocked meanwhile).
    const first = await handler(batch, context);
    const failed = new Set((first as SQSBatchResponse).batchItemFailures.map((f) => f.itemIdentifier));
    const retried = await handler({ Records: batch.Records.filter((record) => failed.has(record.messageId)) }, context);

    // Assess
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }, { itemIdentifier: 'msg-3' }] });
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(sender.posts.map((p) => (p.data as JournalEvent).type)).toEqual(['phase.started', 'probe.result', 'phase.completed']);
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('ProvisionedThroughputExceededException'));
    lookup.mockRestore();
    logged.mockRestore();
    await connections.delete(watcher);
  });

  it('rejects input that is not a progress event with a ValidationError naming the field', async () => {
    // Prepare
    const handler = createHandler({ connections, sender: recordingSender() });

    // Act
    const single = await handler({ source: 'chaosduck.lifecycle', 'detail-type': 'x', detail: { type: 'x', at: 'now' } }, context).catch((e: unknown) => e);
    const batch = await handler({ Records: [{ messageId: 'msg-1', body: '{not json' }] }, context).catch((e: unknown) => e);

    // Assess
    expect(single).toBeInstanceOf(ValidationError);
    expect((single as ValidationError).issues.map((i) => i.field)).toEqual(['detail.experimentId']);
    expect(batch).toBeInstanceOf(ValidationError);
    expect((batch as ValidationError).issues).toEqual([{ field: 'Records[0].body', message: 'not valid JSON' }]);
  });
});
