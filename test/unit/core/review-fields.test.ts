import * as assert from 'node:assert/strict';
import { reviewFields } from '../../../src/shared/reviewFields';

describe('reviewFields (the approval card lists who and what first)', () => {
  it('puts identifying fields first, other short fields next, long values last by size', () => {
    const input = {
      name: 'Follow up',
      notes: 'x'.repeat(300),
      assignee: '1201',
      projects: '1200',
      completed: false,
      ids: Array.from({ length: 500 }, (_, i) => i),
    };
    const fields = reviewFields(JSON.stringify(input, null, 2));
    assert.deepEqual(
      fields.map((f) => f.path),
      ['assignee', 'projects', 'name', 'completed', 'notes', 'ids'],
    );
    assert.equal(fields[0]!.json, '"1201"');
    assert.deepEqual([fields[4]!.kind, fields[4]!.json, fields[4]!.bytes], ['text', undefined, 302]);
    assert.deepEqual([fields[5]!.kind, fields[5]!.items], ['list', 500]);
  });

  it('opens up a long object so an assignee nested beside padding still comes first', () => {
    const fields = reviewFields(JSON.stringify({ data: { notes: 'x'.repeat(1000), assignee: '9', taskId: '7' } }));
    assert.deepEqual(
      fields.map((f) => [f.path, f.json]),
      [
        ['data.assignee', '"9"'],
        ['data.taskId', '"7"'],
        ['data.notes', undefined],
      ],
    );
  });

  it('lists nothing for input that is not a JSON object', () => {
    for (const text of ['', 'not json', '[1,2]', '42', 'null', '{"cut": "abc']) assert.deepEqual(reviewFields(text), [], text);
  });
});
