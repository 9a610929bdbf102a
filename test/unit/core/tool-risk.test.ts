import * as assert from 'node:assert/strict';
import { classifyByName, classifyTool, groupByRisk, toolNameWords } from '../../../src/core/toolRisk';
import posthog from '../../emulators/fixtures/posthogmcp.json';
import asana from '../../emulators/fixtures/asana.json';
import asanamcp from '../../emulators/fixtures/asanamcp.json';

interface CatalogFile {
  tools: { name: string }[];
}

const catalogs: Record<string, CatalogFile> = { posthogmcp: posthog as CatalogFile, asana: asana as CatalogFile, asanamcp: asanamcp as CatalogFile };

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

  it('drops the connector prefix before reading words', () => {
    assert.deepEqual(toolNameWords('asana_task_create'), ['task', 'create']);
    assert.deepEqual(toolNameWords('single'), ['single']);
  });
});
