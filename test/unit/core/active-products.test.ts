import * as assert from 'node:assert/strict';
import { activeProducts, type ConnectionStatus } from '../../../src/core/connectionStatus';

const connection = (name: string, status: ConnectionStatus, tools: string[] = []) => ({ name, status, tools: tools.map((t) => ({ name: t })) });

describe("activeProducts (the walkthrough's connect steps)", () => {
  it('counts the default connection names once they are ACTIVE', () => {
    assert.deepEqual(activeProducts([connection('posthog', 'ACTIVE'), connection('asana', 'PENDING_AUTH')]), { posthog: true, asana: false });
    assert.deepEqual(activeProducts([connection('posthog', 'EXPIRED'), connection('asana', 'ACTIVE')]), { posthog: false, asana: true });
  });

  it('counts connections the admin named otherwise, by their tools', () => {
    const analytics = connection('analytics-prod', 'ACTIVE', ['posthogmcp_query_run', 'posthogmcp_insights_get_all']);
    const tasks = connection('work', 'ACTIVE', ['asana_task_create']);
    assert.deepEqual(activeProducts([analytics, tasks]), { posthog: true, asana: true });
  });

  it('ignores anything not ACTIVE and unrelated connections', () => {
    assert.deepEqual(activeProducts([connection('posthog-eu', 'DISCONNECTED'), connection('github', 'ACTIVE', ['github_issue_create'])]), {
      posthog: false,
      asana: false,
    });
    assert.deepEqual(activeProducts([]), { posthog: false, asana: false });
  });
});
