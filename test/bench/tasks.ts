// The emulator task set: what a user asks, the keywords a model would search with, and
// the tool that answers it, with a valid input. It spans both connections.

export interface BenchTask {
  readonly ask: string;
  readonly search: string;
  readonly tool: string;
  readonly input: (ctx: { workspaceGid: string; projectGid: string; taskGid: string }) => Record<string, unknown>;
}

const trends = (event: string, from = '-7d') => ({
  query: JSON.stringify({ kind: 'TrendsQuery', series: [{ event }], interval: 'day', dateRange: { date_from: from } }),
});

export const benchTasks: readonly BenchTask[] = [
  {
    ask: 'How many signups did we have each day last week?',
    search: 'signups per day trends query',
    tool: 'posthogmcp_query_run',
    input: () => trends('signed_up'),
  },
  {
    ask: 'Pageviews per day for the last 30 days',
    search: 'pageview events per day trends query',
    tool: 'posthogmcp_query_run',
    input: () => trends('$pageview', '-30d'),
  },
  { ask: 'List our feature flags', search: 'list feature flags', tool: 'posthogmcp_feature_flag_get_all', input: () => ({}) },
  { ask: 'Which insights do we have?', search: 'list insights', tool: 'posthogmcp_insights_list', input: () => ({}) },
  { ask: 'Show me our dashboards', search: 'dashboards get all', tool: 'posthogmcp_dashboards_get_all', input: () => ({}) },
  { ask: 'Which events do we track?', search: 'event definitions list', tool: 'posthogmcp_event_definitions_list', input: () => ({}) },
  { ask: 'Find some persons', search: 'persons list', tool: 'posthogmcp_persons_list', input: () => ({}) },
  { ask: 'List our cohorts', search: 'cohorts list', tool: 'posthogmcp_cohorts_list', input: () => ({}) },
  { ask: 'What experiments are running?', search: 'experiments get all', tool: 'posthogmcp_experiment_get_all', input: () => ({}) },
  { ask: 'List the surveys', search: 'surveys get all', tool: 'posthogmcp_surveys_get_all', input: () => ({}) },
  { ask: 'Show error tracking issues', search: 'error tracking issues list', tool: 'posthogmcp_error_tracking_issues_list', input: () => ({}) },
  { ask: 'List annotations', search: 'annotations list', tool: 'posthogmcp_annotations_list', input: () => ({}) },
  {
    ask: 'Create a feature flag called new-onboarding',
    search: 'create feature flag',
    tool: 'posthogmcp_create_feature_flag',
    input: () => ({ key: 'new-onboarding', name: 'New onboarding' }),
  },
  { ask: 'Which Asana workspaces am I in?', search: 'workspaces list', tool: 'asana_workspaces_list', input: () => ({}) },
  { ask: 'List the projects in Asana', search: 'list projects', tool: 'asana_projects_list', input: ({ workspaceGid }) => ({ workspace_gid: workspaceGid }) },
  {
    ask: 'What tasks are in the launch project?',
    search: 'project tasks list',
    tool: 'asana_project_tasks_list',
    input: ({ projectGid }) => ({ project_gid: projectGid }),
  },
  { ask: 'List my tasks', search: 'list tasks', tool: 'asana_tasks_list', input: ({ projectGid }) => ({ project: projectGid }) },
  {
    ask: 'Create an Asana task called Write launch notes',
    search: 'create asana task',
    tool: 'asana_task_create',
    input: ({ workspaceGid }) => ({ name: 'Write launch notes', workspace_gid: workspaceGid }),
  },
  { ask: 'Rename that task', search: 'update task', tool: 'asana_task_update', input: ({ taskGid }) => ({ task_gid: taskGid, name: 'Renamed' }) },
  {
    ask: 'Comment on the task',
    search: 'comment on a task story create',
    tool: 'asana_story_create',
    input: ({ taskGid }) => ({ task_gid: taskGid, text: 'Looks good' }),
  },
  {
    ask: 'Show the comments on that task',
    search: 'task stories comments list',
    tool: 'asana_task_stories_list',
    input: ({ taskGid }) => ({ task_gid: taskGid }),
  },
  { ask: 'Who is in our workspace?', search: 'users list', tool: 'asana_users_list', input: ({ workspaceGid }) => ({ workspace_gid: workspaceGid }) },
  {
    ask: 'What sections does the project have?',
    search: 'sections list',
    tool: 'asana_sections_list',
    input: ({ projectGid }) => ({ project_gid: projectGid }),
  },
  { ask: 'List the teams', search: 'workspace teams list', tool: 'asana_workspace_teams_list', input: ({ workspaceGid }) => ({ workspace_gid: workspaceGid }) },
];
