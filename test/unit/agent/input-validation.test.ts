import * as assert from 'node:assert/strict';
import { checkToolInput, warmToolSchemas } from '../../../src/agent/inputValidation';

// Tool schemas come from the server; their `pattern`s run on the extension host thread.
describe('tool input validation (schema patterns from the server)', function () {
  this.timeout(120_000); // the old engine needs seconds here; the guard below is what fails

  it('a catastrophic pattern ^(a+)+$ cannot freeze the host: 30 characters answer at once', () => {
    const schema = { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } };
    const started = performance.now();
    const bad = checkToolInput('t_redos', schema, { s: `${'a'.repeat(30)}!` });
    const good = checkToolInput('t_redos', schema, { s: 'a'.repeat(40) });
    const ms = performance.now() - started;
    console.log(`      ^(a+)+$ on 31 and 40 characters: ${ms.toFixed(1)} ms`);
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.problem, /must match pattern/);
    assert.equal(good.ok, true);
    // A correctness guard, not a timing benchmark: backtracking takes seconds here.
    assert.ok(ms < 1000, `validation took ${ms.toFixed(0)} ms`);
  });

  it('a changed schema under the same tool name is checked with the new schema', () => {
    const before = { type: 'object', properties: { n: { type: 'string' } } };
    const after = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    assert.equal(checkToolInput('t_changing', before, { n: 'x' }).ok, true);
    assert.equal(checkToolInput('t_changing', after, { n: 'x' }).ok, false);
    assert.equal(checkToolInput('t_changing', after, { n: 3 }).ok, true);
    assert.equal(checkToolInput('t_changing', before, { n: 3 }).ok, false, 'and back again');
  });

  it('schemas compiled ahead of their first call (as loaded tools are) check input exactly as before', async () => {
    const strict = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false };
    const uncheckable = { type: 'object', properties: { s: { type: 'string', pattern: '^(?=a)a$' } } };
    await warmToolSchemas([strict, uncheckable, strict]);
    assert.equal(checkToolInput('t_warm', strict, { n: 3 }).ok, true);
    assert.equal(checkToolInput('t_warm', strict, { n: 'x' }).ok, false);
    assert.equal(checkToolInput('t_warm', strict, { n: 3, extra: true }).ok, false);
    const refused = checkToolInput('t_warm_pattern', uncheckable, { s: 'a' });
    assert.equal(refused.ok ? undefined : refused.code, 'unchecked_schema');
  });

  it('refuses a call whose schema pattern cannot be checked in linear time, with a clear message', () => {
    for (const pattern of ['^(?=a)a$', '^(a)\\1$', '^a(?!b)']) {
      const schema = { type: 'object', properties: { s: { type: 'string', pattern } } };
      const check = checkToolInput('t_lookaround', schema, { s: 'aa' });
      assert.equal(check.ok, false, pattern);
      assert.match(check.ok ? '' : check.problem, /pattern .* cannot be checked safely/, pattern);
      assert.equal(check.ok ? undefined : check.code, 'unchecked_schema');
    }
  });

  it('keeps ECMAScript pattern meaning: unanchored search, escapes, classes, patternProperties', () => {
    const cases: [string, string, boolean][] = [
      ['^\\d{4}-\\d{2}-\\d{2}$', '2024-05-01', true],
      ['^\\d{4}-\\d{2}-\\d{2}$', '2024-5-01', false],
      ['b', 'abc', true], // JSON Schema patterns are not anchored
      ['^[\\w.+-]+@[\\w-]+\\.\\w+$', 'ada@example.com', true],
      ['^\\u0041+$', 'AAA', true],
      ['^[^/]+\\/[^/]+$', 'a/b', true],
      ['^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', '123e4567-e89b-12d3-a456-426614174000', true],
      ['^\\p{Lu}', 'Émile', true],
    ];
    for (const [pattern, value, ok] of cases) {
      const schema = { type: 'object', properties: { s: { type: 'string', pattern } } };
      assert.equal(checkToolInput('t_flavour', schema, { s: value }).ok, ok, `${pattern} on ${value}`);
    }
    const props = { type: 'object', patternProperties: { '^x-': { type: 'integer' } } };
    assert.equal(checkToolInput('t_props', props, { 'x-a': 1 }).ok, true);
    assert.equal(checkToolInput('t_props', props, { 'x-a': 'no' }).ok, false);
  });
});
