import * as assert from 'node:assert/strict';
import { WebviewOutbox } from '../../../src/core/webviewOutbox';

describe('WebviewOutbox', () => {
  it('hands messages over only after the current task and its promise jobs, all of them, in the order posted', async () => {
    const delivered: string[] = [];
    const outbox = new WebviewOutbox<string>((message) => delivered.push(message));
    outbox.post('running card');
    await Promise.resolve();
    outbox.post('finished card');
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    assert.deepEqual(delivered, [], 'nothing is handed over while the tool call and the next request are still being prepared');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(delivered, ['running card', 'finished card']);
  });

  it('keeps the order across flushes, with a message posted during a flush going out after it', () => {
    const delivered: string[] = [];
    const flushes: (() => void)[] = [];
    const outbox = new WebviewOutbox<string>(
      (message) => {
        delivered.push(message);
        if (message === 'b') outbox.post('d');
      },
      (flush) => flushes.push(flush),
    );
    outbox.post('a');
    outbox.post('b');
    outbox.post('c');
    assert.equal(flushes.length, 1, 'one flush is scheduled for a run of posts');
    flushes.shift()!();
    assert.deepEqual(delivered, ['a', 'b', 'c']);
    assert.equal(flushes.length, 1, 'the message posted during the flush has its own');
    flushes.shift()!();
    assert.deepEqual(delivered, ['a', 'b', 'c', 'd']);
  });

  it('drops what is queued once closed, as a disposed webview would', () => {
    const delivered: string[] = [];
    const flushes: (() => void)[] = [];
    const outbox = new WebviewOutbox<string>(
      (message) => delivered.push(message),
      (flush) => flushes.push(flush),
    );
    outbox.post('queued before the view went away');
    outbox.close();
    outbox.post('posted after');
    for (const flush of flushes) flush();
    assert.deepEqual(delivered, []);
  });
});
