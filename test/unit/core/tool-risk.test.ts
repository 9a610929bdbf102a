import * as assert from 'node:assert/strict';
import { classifyByName, classifyTool, groupByRisk, toolNameWords } from '../../../src/core/toolRisk';
import posthog from '../../emulators/fixtures/posthogmcp.json';
import asana from '../../emulators/fixtures/asana.json';
import asanamcp from '../../emulators/fixtures/asanamcp.json';

interface CatalogFile {
  tools: { name: string }[];
}

const catalogs: Record<string, CatalogFile> = { posthogmcp: posthog, asana: asana, asanamcp: asanamcp };

describe('tool risk classifier', () => {
  it('covers the real catalogs: 199 PostHog and 210 Asana tools', () => {
    assert.equal(catalogs.posthogmcp!.tools.length, 199);
    assert.equal(catalogs.asana!.tools.length, 210);
  });

  for (const [name, catalog] of Object.entries(catalogs)) {
    it(`never calls a deleting or removing ${name} tool anything but destructive`, () => {
      for (const tool of catalog.tools) {
        if (/(^|_)(delete|remove|destroy|rm)(_|$)/.test(tool.name)) assert.equal(classifyTool(tool.name), 'destructive', tool.name);
      }
    });

    it(`never calls a creating or updating ${name} tool read`, () => {
      for (const tool of catalog.tools) {
        if (/(^|_)(create|update|set|add)(_|$)/.test(tool.name) && !tool.name.endsWith('_preview')) {
          assert.notEqual(classifyTool(tool.name), 'read', tool.name);
        }
      }
    });

    it(`sorts every ${name} tool into exactly one group`, () => {
      const groups = groupByRisk(catalog.tools);
      assert.equal(groups.read.length + groups.write.length + groups.destructive.length, catalog.tools.length);
      assert.ok(groups.read.length > 0 && groups.write.length > 0 && groups.destructive.length > 0);
    });
  }

  it('classifies known tools as a person would', () => {
    const expected: Record<string, string> = {
      posthogmcp_query_run: 'read',
      posthogmcp_insights_list: 'read',
      posthogmcp_feature_flag_get_all: 'read',
      posthogmcp_create_feature_flag: 'write',
      posthogmcp_update_feature_flag: 'write',
      posthogmcp_delete_feature_flag: 'destructive',
      posthogmcp_persons_bulk_delete: 'destructive',
      posthogmcp_cohorts_rm_person_from_static_cohort_partial_update: 'destructive',
      posthogmcp_view_unmaterialize: 'destructive',
      posthogmcp_experiment_launch: 'write',
      asana_tasks_list: 'read',
      asana_task_get: 'read',
      asana_task_create: 'write',
      asana_task_update: 'write',
      asana_task_delete: 'destructive',
      asana_project_remove_members: 'destructive',
      asana_status_updates_list: 'read',
      asanamcp_create_task_preview: 'read',
    };
    for (const [tool, risk] of Object.entries(expected)) assert.equal(classifyTool(tool), risk, tool);
  });

  it('says write when the name tells nothing', () => {
    assert.equal(classifyByName('posthogmcp_frobnicate'), 'unsure');
    assert.equal(classifyTool('posthogmcp_frobnicate'), 'write');
  });

  it('uses MCP annotations, but a dangerous name still wins', () => {
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: true }), 'read');
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: false, destructiveHint: true }), 'destructive');
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: false, destructiveHint: false }), 'write');
    assert.equal(classifyTool('posthog_thing_delete', { readOnlyHint: true }), 'destructive');
    assert.equal(classifyTool('posthog_things_list', { destructiveHint: true }), 'destructive');
  });

  // Literal lists, so no word can be dropped from the classifier's sets unnoticed.
  const destructiveWords = ['delete', 'remove', 'rm', 'destroy', 'purge', 'revoke', 'unmaterialize', 'erase', 'wipe', 'truncate', 'drop'];
  const writeWords = [
    'create',
    'update',
    'set',
    'add',
    'duplicate',
    'copy',
    'instantiate',
    'save',
    'reorder',
    'upsert',
    'move',
    'enable',
    'disable',
    'materialize',
    'post',
    'put',
    'patch',
    'send',
    'assign',
    'invite',
    'archive',
    'unarchive',
    'restore',
    'merge',
    'split',
    'reset',
    'rename',
    'publish',
    'unpublish',
    'import',
    'upload',
    'approve',
    'resolve',
    'reopen',
    'mark',
    'toggle',
    'schedule',
    'launch',
    'ship',
    'end',
    'switch',
    'simulate',
    'trigger',
    'cancel',
    'complete',
    'pause',
    'resume',
    'share',
    'unshare',
    'link',
    'unlink',
    'follow',
    'unfollow',
    'attach',
    'detach',
    'insert',
    'replace',
    'write',
    'edit',
    'bulk',
    'partial',
    'submit',
    'start',
    'stop',
    'retry',
    'apply',
  ];
  const readWords = [
    'get',
    'list',
    'retrieve',
    'search',
    'query',
    'find',
    'read',
    'describe',
    'fetch',
    'count',
    'counts',
    'filters',
    'history',
    'status',
    'statuses',
    'values',
    'sparkline',
    'preview',
    'show',
    'view',
    'lookup',
    'check',
    'all',
    'summary',
    'summarize',
    'generate',
    'explain',
    'definition',
    'definitions',
    'reasons',
    'stats',
    'logs',
    'log',
    'me',
    'whoami',
    'info',
    'details',
    'export',
    'download',
    'docs',
    'schema',
    'suggest',
    'suggestions',
    'estimate',
    'dependent',
    'dependents',
  ];

  it('maps every destructive word to destructive, wherever it stands and however it is written', () => {
    for (const word of destructiveWords) {
      assert.equal(classifyTool(`svc_thing_${word}`), 'destructive', word);
      assert.equal(classifyTool(`svc_${word}_thing`), 'destructive', word);
      assert.equal(classifyTool(`svc_thing${word[0]!.toUpperCase()}${word.slice(1)}`), 'destructive', `camelCase ${word}`);
      // A destructive word outweighs any write or read word beside it.
      assert.equal(classifyTool(`svc_update_thing_${word}_list`), 'destructive', word);
    }
  });

  it('maps every write word to write', () => {
    for (const word of writeWords) {
      assert.equal(classifyTool(`svc_thing_${word}`), 'write', word);
      assert.equal(classifyTool(`svc_${word}Thing`), 'write', `camelCase ${word}`);
      // A write word outweighs a read word beside it.
      assert.equal(classifyTool(`svc_list_thing_${word}`), 'write', word);
    }
  });

  it('maps every read word to read', () => {
    for (const word of readWords) assert.equal(classifyTool(`svc_thing_${word}`), 'read', word);
  });

  it('splits camelCase names: deleteFeatureFlag is destructive, never "always allow"-able', () => {
    const expected: Record<string, string> = {
      deleteFeatureFlag: 'destructive',
      posthog_deleteFeatureFlag: 'destructive',
      'posthog_feature-flag-delete': 'destructive',
      'delete-feature-flag': 'destructive',
      delete_feature_flag: 'destructive',
      posthog_removeTaskFromProject: 'destructive',
      posthog_purgeHTTPCache: 'destructive',
      asana_createTask: 'write',
      asana_updateTaskStatus: 'write',
      createTask: 'write',
      asana_getTasks: 'read',
      asana_listProjects: 'read',
      getHTTPLogs: 'read',
      asana_taskPreview: 'read',
      // A name that only looks like it contains a verb is not split into one.
      asana_deleted_items_list: 'read',
      asana_removal_requests_list: 'read',
      posthog_frobnicate: 'write',
    };
    for (const [tool, risk] of Object.entries(expected)) assert.equal(classifyTool(tool), risk, tool);
  });

  it('reads MCP annotations with the spec defaults: not read-only and no destructiveHint means destructive', () => {
    // MCP: readOnlyHint defaults to false; destructiveHint defaults to true when not read-only.
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: false }), 'destructive');
    assert.equal(classifyTool('posthog_frobnicate', {}), 'destructive');
    assert.equal(classifyTool('posthog_things_list', {}), 'destructive');
    assert.equal(classifyTool('posthog_things_list', { readOnlyHint: false }), 'destructive');
    assert.equal(classifyTool('posthog_frobnicate', { destructiveHint: false }), 'write');
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: false, destructiveHint: false }), 'write');
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: true }), 'read');
    assert.equal(classifyTool('posthog_frobnicate', { readOnlyHint: true, destructiveHint: true }), 'read');
    // No annotations at all (a Scalekit catalog tool): the name decides, and unknown asks.
    assert.equal(classifyTool('posthog_things_list'), 'read');
    assert.equal(classifyTool('posthog_frobnicate'), 'write');
  });

  it('drops the connector prefix before reading words', () => {
    assert.deepEqual(toolNameWords('asana_task_create'), ['task', 'create']);
    assert.deepEqual(toolNameWords('single'), ['single']);
  });
});
