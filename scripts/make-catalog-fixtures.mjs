#!/usr/bin/env node
// One-off generator for the Scalekit emulator's tool catalogs.
//
// Reads the reference catalogs in ../shared/catalogs and writes
// test/emulators/fixtures/{posthogmcp,asana,asanamcp}.json. Tool names and
// input schemas are copied exactly (they are facts about the real tool
// surface); every tool description is replaced by one line generated here
// from the tool's name. Tests read only the generated fixtures, never
// ../shared.
//
// Usage: node scripts/make-catalog-fixtures.mjs [sourceDir]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = resolve(process.argv[2] ?? join(root, '..', 'shared', 'catalogs'));
const outDir = join(root, 'test', 'emulators', 'fixtures');

const connectors = {
  posthogmcp: { prefix: 'posthogmcp_', product: 'PostHog' },
  asana: { prefix: 'asana_', product: 'Asana' },
  asanamcp: { prefix: 'asanamcp_', product: 'Asana' },
};

// Verb token(s) → sentence verb. Multi-token verbs come first so they win.
const verbs = [
  [['get', 'all'], 'Lists all'],
  [['partial', 'update'], 'Partially updates'],
  [['list'], 'Lists'],
  [['get'], 'Gets'],
  [['retrieve'], 'Retrieves'],
  [['create'], 'Creates'],
  [['update'], 'Updates'],
  [['delete'], 'Deletes'],
  [['destroy'], 'Deletes'],
  [['run'], 'Runs'],
  [['search'], 'Searches'],
  [['query'], 'Queries'],
  [['add'], 'Adds'],
  [['remove'], 'Removes'],
  [['rm'], 'Removes'],
  [['set'], 'Sets'],
  [['switch'], 'Switches'],
  [['duplicate'], 'Duplicates'],
  [['instantiate'], 'Instantiates'],
  [['archive'], 'Archives'],
  [['launch'], 'Launches'],
  [['pause'], 'Pauses'],
  [['resume'], 'Resumes'],
  [['reset'], 'Resets'],
  [['end'], 'Ends'],
  [['ship'], 'Ships'],
  [['merge'], 'Merges'],
  [['split'], 'Splits'],
  [['simulate'], 'Simulates'],
  [['materialize'], 'Materializes'],
  [['unmaterialize'], 'Unmaterializes'],
  [['retry'], 'Retries'],
  [['count'], 'Counts'],
  [['reorder'], 'Reorders'],
  [['save'], 'Saves'],
  [['generate'], 'Generates'],
  [['test'], 'Tests'],
  [['trigger'], 'Triggers'],
  [['export'], 'Exports'],
  [['debug'], 'Debugs'],
  [['bulk'], 'Bulk-processes'],
];

const prepositionFor = { Adds: 'to', Removes: 'from', Sets: 'on', Switches: 'for' };

const acronyms = new Map([
  ['cdp', 'CDP'], ['llm', 'LLM'], ['mcp', 'MCP'], ['ui', 'UI'], ['hogql', 'HogQL'], ['id', 'ID'],
  ['openapi', 'OpenAPI'], ['gid', 'GID'],
]);

function words(tokens) {
  const phrase = tokens.map((t) => acronyms.get(t) ?? t).join(' ');
  return phrase === 'me' ? 'current user' : phrase;
}

function plural(phrase) {
  if (/s$/.test(phrase)) return phrase;
  if (/y$/.test(phrase) && !/[aeiou]y$/.test(phrase)) return phrase.slice(0, -1) + 'ies';
  return phrase + 's';
}

function article(phrase) {
  return /^[aeiouAEIOU]/.test(phrase) && !/^(user|use|unique)/i.test(phrase) ? 'an' : 'a';
}

function matchVerbAt(tokens, i) {
  for (const [verbTokens, sentenceVerb] of verbs) {
    const slice = tokens.slice(i, i + verbTokens.length);
    if (slice.length === verbTokens.length && slice.every((t, k) => t === verbTokens[k])) {
      return { index: i, length: verbTokens.length, verb: sentenceVerb };
    }
  }
  return undefined;
}

// REST-style names put the main verb last (`insights_list`, `task_create`),
// MCP-style names put it first (`create_feature_flag`); check those two
// positions before looking inside the name (`task_add_followers`).
function findVerb(tokens) {
  for (let i = Math.max(0, tokens.length - 2); i < tokens.length; i++) {
    const found = matchVerbAt(tokens, i);
    if (found && found.index + found.length === tokens.length) return found;
  }
  const first = matchVerbAt(tokens, 0);
  if (first) return first;
  for (let i = 1; i < tokens.length; i++) {
    const found = matchVerbAt(tokens, i);
    if (found) return found;
  }
  return undefined;
}

export function describeTool(name, product, prefix) {
  const tokens = name.slice(prefix.length).split('_').filter(Boolean);
  const found = findVerb(tokens);
  if (!found) return `Works with ${product} ${words(tokens)}.`;
  const before = tokens.slice(0, found.index);
  const after = tokens.slice(found.index + found.length);
  const { verb } = found;
  const listing = verb === 'Lists' || verb === 'Lists all' || verb === 'Searches';
  if (before.length > 0 && after.length > 0) {
    // e.g. task_add_followers → "Adds followers to an Asana task."
    const object = words(after);
    const owner = `${product} ${words(before)}`;
    const prep = prepositionFor[verb] ?? 'for';
    return `${verb} ${object} ${prep} ${article(owner)} ${owner}.`;
  }
  const nounTokens = before.length > 0 ? before : after;
  if (nounTokens.length === 0) return `${verb} in ${product}.`;
  const noun = words(nounTokens);
  if (listing) return `${verb} ${product} ${plural(noun)}.`;
  if (/s$/.test(noun)) return `${verb} ${product} ${noun}.`;
  if (noun === 'current user') return `${verb} the current ${product} user.`;
  const phrase = `${product} ${noun}`;
  return `${verb} ${article(phrase)} ${phrase}.`;
}

mkdirSync(outDir, { recursive: true });
for (const [connector, { prefix, product }] of Object.entries(connectors)) {
  const source = JSON.parse(readFileSync(join(sourceDir, `${connector}.json`), 'utf8'));
  const tools = source.tools.map((tool) => {
    if (!tool.name.startsWith(prefix)) throw new Error(`${tool.name} lacks prefix ${prefix}`);
    return {
      name: tool.name,
      description: describeTool(tool.name, product, prefix),
      input_schema: tool.input_schema,
    };
  });
  const out = {
    connector,
    note: 'Tool names and input schemas copied from the reference catalog; descriptions generated by scripts/make-catalog-fixtures.mjs.',
    tools,
  };
  const file = join(outDir, `${connector}.json`);
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`${file}: ${tools.length} tools`);
}
