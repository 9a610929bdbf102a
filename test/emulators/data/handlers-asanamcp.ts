// Handlers for Asana's own MCP server tools (connector `asanamcp`), backed by
// the same Asana store as the REST tools.
import { isRecord } from './posthog';
import { ToolFailure } from './tool-failure';
import { type JsonRecord, type ToolContext, type ToolHandler, bool, str } from './tool-context';

function me(ctx: ToolContext) {
  return ctx.data.asana.userFor(ctx.identifier);
}

function required(input: JsonRecord, field: string): string {
  const v = str(input[field])?.trim();
  if (!v) throw new ToolFailure('invalid_input', `${field} is required.`);
  return v;
}

export const asanamcpHandlers: Record<string, ToolHandler> = {
  asanamcp_get_me: (_input, ctx) => ({ data: ctx.data.asana.fullUser(me(ctx)) }),

  asanamcp_get_user: (input, ctx) => {
    const key = str(input.user_gid) ?? str(input.email) ?? 'me';
    return { data: ctx.data.asana.fullUser(ctx.data.asana.requireUser(key, me(ctx))) };
  },

  asanamcp_get_users: (input, { data }) => {
    const team = str(input.team) ? data.asana.requireTeam(str(input.team) as string) : undefined;
    const users = team ? data.asana.users.filter((u) => team.members.includes(u.gid)) : data.asana.users;
    return { data: users.map((u) => ({ gid: u.gid, name: u.name, email: u.email })) };
  },

  asanamcp_get_teams: (input, ctx) => {
    const user = str(input.user) ? ctx.data.asana.requireUser(str(input.user) as string, me(ctx)) : undefined;
    const teams = ctx.data.asana.teams.filter((t) => !user || t.members.includes(user.gid));
    return { data: teams.map((t) => ({ gid: t.gid, name: t.name, description: t.description })) };
  },

  asanamcp_get_projects: (input, { data }) => {
    const team = str(input.team);
    const includeArchived = bool(input.include_archived) ?? false;
    const projects = data.asana.projects.filter((p) => (!team || p.team === team) && (includeArchived || !p.archived));
    return { data: projects.map((p) => ({ gid: p.gid, name: p.name, archived: p.archived, color: p.color })) };
  },

  asanamcp_get_project: (input, { data }) => {
    const project = data.asana.requireProject(required(input, 'project_id'));
    return {
      data: {
        ...data.asana.fullProject(project),
        sections: data.asana.sections.filter((s) => s.project === project.gid).map((s) => ({ gid: s.gid, name: s.name })),
        task_count: data.asana.tasksInProject(project.gid).length,
      },
    };
  },

  asanamcp_get_task: (input, { data }) => {
    const task = data.asana.requireTask(required(input, 'task_id'));
    return { data: { ...data.asana.fullTask(task), stories: data.asana.storiesFor(task.gid).map((s) => data.asana.fullStory(s)) } };
  },

  asanamcp_get_tasks: (input, ctx) => searchTasks(input, ctx),
  asanamcp_search_tasks: (input, ctx) => searchTasks(input, ctx),

  asanamcp_get_my_tasks: (input, ctx) => {
    const status = str(input.completion_status) ?? 'incomplete';
    const user = me(ctx);
    const tasks = [...ctx.data.asana.tasks.values()].filter((t) => t.assignee === user.gid && (status === 'all' || (status === 'completed') === t.completed));
    return { data: tasks.map((t) => ({ gid: t.gid, name: t.name, completed: t.completed, due_on: t.due_on })) };
  },

  asanamcp_create_tasks: (input, ctx) => {
    if (!Array.isArray(input.tasks) || input.tasks.length === 0) throw new ToolFailure('invalid_input', 'tasks must be a non-empty array.');
    if (input.tasks.length > 50) throw new ToolFailure('invalid_input', 'At most 50 tasks may be created per call.');
    const created = input.tasks.map((raw, i) => {
      if (!isRecord(raw)) throw new ToolFailure('invalid_input', `tasks[${i}] must be an object.`);
      const name = str(raw.name) ?? str(raw.task_name) ?? str(raw.taskName);
      if (!name) throw new ToolFailure('invalid_input', `tasks[${i}].name is required.`);
      const project = str(raw.project) ?? str(raw.project_id);
      const task = ctx.data.asana.createTask(
        {
          name,
          notes: str(raw.notes) ?? str(raw.description),
          assignee: str(raw.assignee) ?? null,
          due_on: str(raw.due_on) ?? str(raw.due_date),
          projects: project ? [project] : [],
          section: str(raw.section),
        },
        me(ctx),
      );
      return { gid: task.gid, name: task.name, permalink_url: ctx.data.asana.fullTask(task).permalink_url };
    });
    return { data: created };
  },

  asanamcp_update_tasks: (input, ctx) => {
    if (!Array.isArray(input.tasks) || input.tasks.length === 0) throw new ToolFailure('invalid_input', 'tasks must be a non-empty array.');
    const updated = input.tasks.map((raw, i) => {
      if (!isRecord(raw)) throw new ToolFailure('invalid_input', `tasks[${i}] must be an object.`);
      const task = ctx.data.asana.requireTask(str(raw.task) ?? str(raw.task_gid) ?? '');
      if (str(raw.name)) task.name = str(raw.name) as string;
      if (str(raw.notes) !== undefined) task.notes = str(raw.notes) as string;
      if (str(raw.due_on)) task.due_on = str(raw.due_on) as string;
      if (str(raw.assignee)) task.assignee = ctx.data.asana.requireUser(str(raw.assignee) as string, me(ctx)).gid;
      const completed = bool(raw.completed);
      if (completed !== undefined) {
        task.completed = completed;
        task.completed_at = completed ? new Date(ctx.data.clock()).toISOString() : null;
      }
      task.modified_at = new Date(ctx.data.clock()).toISOString();
      return { gid: task.gid, name: task.name, completed: task.completed };
    });
    return { data: updated };
  },

  asanamcp_delete_task: (input, { data }) => {
    const task = data.asana.deleteTask(required(input, 'task_gid'));
    return { data: { gid: task.gid, deleted: true } };
  },

  asanamcp_add_comment: (input, ctx) => {
    const text = str(input.text) ?? str(input.html)?.replace(/<[^>]+>/g, '') ?? '';
    const story = ctx.data.asana.addComment(required(input, 'task_id'), text, me(ctx));
    return { data: ctx.data.asana.fullStory(story) };
  },
};

function searchTasks(input: JsonRecord, ctx: ToolContext): JsonRecord {
  const store = ctx.data.asana;
  const assignee = str(input.assignee) ? store.requireUser(str(input.assignee) as string, me(ctx)).gid : undefined;
  const text = str(input.text)?.toLowerCase();
  const completed = bool(input.completed);
  const project = str(input.project);
  const section = str(input.section);
  const tasks = [...store.tasks.values()].filter(
    (t) =>
      (!assignee || t.assignee === assignee) &&
      (!text || `${t.name} ${t.notes}`.toLowerCase().includes(text)) &&
      (completed === undefined || t.completed === completed) &&
      (!project || t.memberships.some((m) => m.project === project)) &&
      (!section || t.memberships.some((m) => m.section === section)),
  );
  return {
    data: tasks.map((t) => ({
      gid: t.gid,
      name: t.name,
      completed: t.completed,
      due_on: t.due_on,
      assignee: store.compactUser(t.assignee),
    })),
  };
}
