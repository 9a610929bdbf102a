import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands, contextKeys, views, walkthrough, walkthroughStepKeys } from '../../../src/vscode/constants';
import { firstUnticked, walkthroughSteps } from '../../../src/core/walkthroughSteps';

// The contributions a user meets first: what the palette offers when, and what each row offers.

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
  publisher: string;
  name: string;
  contributes: {
    walkthroughs: { id: string; title: string; steps: { id: string; completionEvents: string[] }[] }[];
    commands: { command: string }[];
    views: Record<string, { id: string }[]>;
    menus: Record<string, { command: string; when?: string; group?: string }[]>;
  };
};
const palette = new Map(manifest.contributes.menus['commandPalette']!.map((m) => [m.command, m.when ?? '']));
const rowMenu = manifest.contributes.menus['view/item/context']!;

describe('manifest: menus show what applies', () => {
  it("commands about the signed-in user's accounts and data are hidden from the palette when signed out", () => {
    for (const command of [
      'connect',
      'reauthorize',
      'disconnect',
      'signOut',
      'refresh',
      'showAuditLog',
      'exportAuditLog',
      'checkAuditInput',
      'resetApprovals',
    ]) {
      assert.equal(palette.get(`onbehalf.${command}`), 'onbehalf.signedIn', command);
    }
    assert.equal(palette.get('onbehalf.signIn'), '!onbehalf.signedIn');
  });

  it('every command in a menu is declared', () => {
    const declared = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const entry of entries) assert.ok(declared.has(entry.command), `${menu}: ${entry.command}`);
    }
  });

  it('a connection row offers Connect or Re-authorize inline, and Disconnect and Refresh in its menu', () => {
    const offered = (viewItem: string) =>
      rowMenu
        .filter((m) => {
          const pattern = /viewItem =~ \/(.+)\/$/.exec(m.when ?? '')?.[1];
          return pattern ? new RegExp(pattern).test(viewItem) : (m.when ?? '').includes(`viewItem == ${viewItem}`);
        })
        .map((m) => `${m.command.replace('onbehalf.', '')}${m.group === 'inline' ? ' (inline)' : ''}`)
        .sort();
    assert.deepEqual(offered('connection.active'), ['disconnect', 'reauthorize (inline)', 'refresh']);
    assert.deepEqual(offered('connection.expired'), ['disconnect', 'reauthorize (inline)', 'refresh']);
    assert.deepEqual(offered('connection.missing'), ['connect (inline)', 'refresh']);
    assert.deepEqual(offered('connection.pending'), ['connect (inline)', 'disconnect', 'refresh']);
  });
});

describe('manifest: the constants module matches package.json', () => {
  const text = readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8');

  it('declares exactly the commands package.json contributes', () => {
    assert.deepEqual(Object.values(commands).sort(), manifest.contributes.commands.map((c) => c.command).sort());
  });

  it('declares exactly the context keys package.json reads in when clauses and walkthrough events', () => {
    const known = new Set<string>([...Object.values(commands), ...Object.values(views)]);
    const read = new Set(
      [...text.matchAll(/"(?:when|enablement)": "([^"]*)"|onContext:([A-Za-z.]+)/g)]
        .flatMap((m) => [...(m[1] ?? m[2] ?? '').matchAll(/onbehalf\.[A-Za-z]+/g)].map((k) => k[0]))
        .filter((k) => !known.has(k)),
    );
    assert.deepEqual([...read].sort(), Object.values(contextKeys).sort());
  });

  it('declares exactly the views package.json contributes', () => {
    assert.deepEqual(
      Object.values(views).sort(),
      Object.values(manifest.contributes.views)
        .flat()
        .map((v) => v.id)
        .sort(),
    );
  });
});

describe('manifest: the walkthrough', () => {
  it('the "Set keys" step says where the keys are in the sandbox: printed in the terminal', () => {
    const walkthrough = (
      manifest as unknown as { contributes: { walkthroughs: { steps: { id: string; description: string; media: { markdown: string } }[] }[] } }
    ).contributes.walkthroughs[0]!;
    const step = walkthrough.steps.find((s) => s.id === 'setKeys')!;
    assert.match(step.description, /sandbox[\s\S]*printed in its terminal/);
    const markdown = readFileSync(join(__dirname, '..', '..', '..', '..', step.media.markdown), 'utf8');
    assert.match(markdown, /In the sandbox[\s\S]*printed in the terminal/);
  });
});

describe('manifest: installing is quiet and says what it needs', () => {
  const raw = manifest as unknown as { engines: Record<string, string>; allowScripts?: Record<string, boolean> };
  it('states the supported Node version, and this Node meets it', () => {
    const min = /^>=(\d+)\.(\d+)$/.exec(raw.engines['node'] ?? '');
    assert.ok(min, `engines.node is ">=major.minor": ${raw.engines['node']}`);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    assert.ok(major > Number(min[1]) || (major === Number(min[1]) && minor >= Number(min[2])), `Node ${process.versions.node} meets ${raw.engines['node']}`);
  });
  it('decides every dependency install script (none is needed: esbuild ships its binary as an optional dependency, vsce-sign only signs for publishing)', () => {
    assert.deepEqual(raw.allowScripts, { esbuild: false, '@vscode/vsce-sign': false });
  });
});

describe('manifest: the walkthrough the guide moves through', () => {
  const [getStarted] = manifest.contributes.walkthroughs;

  it('is named as VS Code names it, with its steps in the order the guide follows', () => {
    assert.equal(walkthrough.category, `${manifest.publisher}.${manifest.name}#${getStarted!.id}`);
    assert.equal(walkthrough.title, getStarted!.title);
    assert.deepEqual(
      getStarted!.steps.map((s) => s.id),
      [...walkthroughSteps],
    );
  });

  it('ticks each step on the context key the guide watches for it', () => {
    for (const step of getStarted!.steps) {
      assert.deepEqual(step.completionEvents, [`onContext:${walkthroughStepKeys[step.id as keyof typeof walkthroughStepKeys]}`], step.id);
    }
  });

  it('shows the first unticked step next, in order, and none once all are ticked', () => {
    const ticks = { signIn: true, setKeys: false, connectPostHog: true, connectAsana: false, ask: false };
    assert.equal(firstUnticked(ticks), 'setKeys');
    assert.equal(firstUnticked({ ...ticks, setKeys: true }), 'connectAsana');
    assert.equal(firstUnticked({ signIn: true, setKeys: true, connectPostHog: true, connectAsana: true, ask: true }), undefined);
  });
});
