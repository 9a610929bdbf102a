// Realistic handlers for the Asana REST tools (connector `asana`). Responses
// use Asana's envelope: `{data: ...}`. Everything else in the catalog falls
// through to handlers-generic.ts.
import { type AsanaStore, type AsanaTask, type AsanaUser, pickFields } from './asana';
import { ToolFailure } from './tool-failure';
import { type JsonRecord, type ToolContext, type ToolHandler, bool, list, str } from './tool-context';

function me(ctx: ToolContext): AsanaUser {
  return ctx.data.asana.userFor(ctx.identifier);
}

function taskList(store: AsanaStore, tasks: AsanaTask[], optFields: unknown): JsonRecord {
  return { data: tasks.map((t) => pickFields(store.fullTask(t), optFields, store.compactTask(t))), next_page: null };
}

function taskOut(store: AsanaStore, task: AsanaTask, optFields: unknown): JsonRecord {
  const full = store.fullTask(task);
  return { data: pickFields(full, optFields, full) };
}

function requireString(input: JsonRecord, field: string): string {
  const value = str(input[field])?.trim();
  if (!value) throw new ToolFailure('invalid_input', `${field}: Missing input`);
  return value;
}

function filterTasks(ctx: ToolContext, input: JsonRecord): AsanaTask[] {
  const store = ctx.data.asana;
  const assignee = str(input.assignee);
  const assigneeGid = assignee ? store.requireUser(assignee, me(ctx)).gid : undefined;
  const project = str(input.project);
  const section = str(input.section);
  if (project) store.requireProject(project);
  if (section) store.requireSection(section);
  const completedSince = str(input.completed_since);
  const since = completedSince && completedSince !== 'now' ? Date.parse(completedSince) : completedSince === 'now' ? store.clock() : undefined;
  const text = str(input.text)?.toLowerCase();
  const completed = bool(input.completed);
  return [...store.tasks.values()].filter((t) => {
    if (assigneeGid && t.assignee !== assigneeGid) return false;
    if (project && !t.memberships.some((m) => m.project === project)) return false;
    if (section && !t.memberships.some((m) => m.section === section)) return false;
    // Asana: completed_since returns incomplete tasks plus those completed after it.
    if (since !== undefined && t.completed && (!t.completed_at || Date.parse(t.completed_at) < since)) return false;
    if (completed !== undefined && t.completed !== completed) return false;
    if (text && !`${t.name} ${t.notes}`.toLowerCase().includes(text)) return false;
    return true;
  });
}

export const asanaHandlers: Record<string, ToolHandler> = {
  asana_workspaces_list: (input, { data }) => ({
    data: [
      pickFields({ ...data.asana.compactWorkspace(), is_organization: true, email_domains: ['acme.example'] }, input.opt_fields, data.asana.compactWorkspace()),
    ],
    next_page: null,
  }),

  asana_workspace_get: (input, { data }) => {
    const ws = data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    return { data: { gid: ws.gid, resource_type: 'workspace', name: ws.name, is_organization: ws.is_organization, email_domains: ['acme.example'] } };
  },

  asana_me_get: (input, ctx) => {
    const full = ctx.data.asana.fullUser(me(ctx));
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_user_get: (input, ctx) => {
    const user = ctx.data.asana.requireUser(requireString(input, 'user_gid'), me(ctx));
    const full = ctx.data.asana.fullUser(user);
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_users_list: (input, { data }) => {
    data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    return { data: data.asana.users.map((u) => pickFields(data.asana.fullUser(u), input.opt_fields, data.asana.compactUser(u.gid) ?? {})), next_page: null };
  },

  asana_workspace_teams_list: (input, { data }) => {
    data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    return {
      data: data.asana.teams.map((t) => pickFields(data.asana.fullTeam(t), input.opt_fields, { gid: t.gid, resource_type: 'team', name: t.name })),
      next_page: null,
    };
  },

  asana_team_get: (input, { data }) => {
    const full = data.asana.fullTeam(data.asana.requireTeam(requireString(input, 'team_gid')));
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_team_users_list: (input, { data }) => {
    const team = data.asana.requireTeam(requireString(input, 'team_gid'));
    return { data: team.members.map((m) => data.asana.compactUser(m)), next_page: null };
  },

  asana_user_teams_list: (input, ctx) => {
    const user = ctx.data.asana.requireUser(requireString(input, 'user_gid'), me(ctx));
    return {
      data: ctx.data.asana.teams.filter((t) => t.members.includes(user.gid)).map((t) => ({ gid: t.gid, resource_type: 'team', name: t.name })),
      next_page: null,
    };
  },

  asana_team_projects_list: (input, { data }) => {
    const team = data.asana.requireTeam(requireString(input, 'team_gid'));
    const archived = bool(input.archived);
    const projects = data.asana.projects.filter((p) => p.team === team.gid && (archived === undefined || p.archived === archived));
    return { data: projects.map((p) => pickFields(data.asana.fullProject(p), input.opt_fields, data.asana.compactProject(p.gid))), next_page: null };
  },

  asana_projects_list: (input, { data }) => {
    const ws = str(input.workspace_gid);
    if (ws) data.asana.requireWorkspace(ws);
    const team = str(input.team);
    if (team) data.asana.requireTeam(team);
    const projects = data.asana.projects.filter((p) => !team || p.team === team);
    return { data: projects.map((p) => pickFields(data.asana.fullProject(p), input.opt_fields, data.asana.compactProject(p.gid))), next_page: null };
  },

  asana_projects_search: (input, { data }) => {
    data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    const name = str(input.name)?.toLowerCase();
    const archived = bool(input.archived);
    const projects = data.asana.projects.filter((p) => (!name || p.name.toLowerCase().includes(name)) && (archived === undefined || p.archived === archived));
    return { data: projects.map((p) => pickFields(data.asana.fullProject(p), input.opt_fields, data.asana.compactProject(p.gid))), next_page: null };
  },

  asana_project_get: (input, { data }) => {
    const full = data.asana.fullProject(data.asana.requireProject(requireString(input, 'project_gid')));
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_project_create: (input, ctx) => {
    const store = ctx.data.asana;
    store.requireWorkspace(requireString(input, 'workspace_gid'));
    const team = str(input.team) ? store.requireTeam(str(input.team) as string) : store.teams[0];
    const now = new Date(store.clock()).toISOString();
    const project = {
      gid: store.newGid(),
      name: requireString(input, 'name'),
      notes: str(input.notes) ?? '',
      color: str(input.color) ?? 'none',
      archived: false,
      team: team?.gid ?? '',
      owner: me(ctx).gid,
      members: [me(ctx).gid],
      created_at: now,
      modified_at: now,
      due_on: str(input.due_on) ?? null,
      start_on: str(input.start_on) ?? null,
    };
    store.projects.push(project);
    store.sections.push({ gid: store.newGid(), name: 'Untitled section', project: project.gid, created_at: now });
    const full = store.fullProject(project);
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_project_update: (input, { data }) => {
    const project = data.asana.requireProject(requireString(input, 'project_gid'));
    for (const key of ['name', 'notes', 'color', 'due_on', 'start_on'] as const) {
      const v = str(input[key]);
      if (v !== undefined) project[key] = v;
    }
    const archived = bool(input.archived);
    if (archived !== undefined) project.archived = archived;
    project.modified_at = new Date(data.clock()).toISOString();
    const full = data.asana.fullProject(project);
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_project_delete: (input, { data }) => {
    const project = data.asana.requireProject(requireString(input, 'project_gid'));
    data.asana.projects.splice(data.asana.projects.indexOf(project), 1);
    return { data: {} };
  },

  asana_sections_list: (input, { data }) => {
    const project = data.asana.requireProject(requireString(input, 'project_gid'));
    const sections = data.asana.sections.filter((s) => s.project === project.gid);
    return {
      data: sections.map((s) => pickFields(data.asana.fullSection(s), input.opt_fields, { gid: s.gid, resource_type: 'section', name: s.name })),
      next_page: null,
    };
  },

  asana_section_get: (input, { data }) => {
    const full = data.asana.fullSection(data.asana.requireSection(requireString(input, 'section_gid')));
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_section_create: (input, { data }) => {
    const project = data.asana.requireProject(requireString(input, 'project_gid'));
    const section = { gid: data.asana.newGid(), name: requireString(input, 'name'), project: project.gid, created_at: new Date(data.clock()).toISOString() };
    data.asana.sections.push(section);
    return { data: data.asana.fullSection(section) };
  },

  asana_section_update: (input, { data }) => {
    const section = data.asana.requireSection(requireString(input, 'section_gid'));
    section.name = requireString(input, 'name');
    return { data: data.asana.fullSection(section) };
  },

  asana_section_tasks_list: (input, { data }) => {
    const section = data.asana.requireSection(requireString(input, 'section_gid'));
    return taskList(data.asana, data.asana.tasksInSection(section.gid), input.opt_fields);
  },

  asana_section_add_task: (input, { data }) => {
    const section = data.asana.requireSection(requireString(input, 'section_gid'));
    const task = data.asana.requireTask(requireString(input, 'task_gid'));
    const membership = task.memberships.find((m) => m.project === section.project);
    if (membership) membership.section = section.gid;
    else task.memberships.push({ project: section.project, section: section.gid });
    task.modified_at = new Date(data.clock()).toISOString();
    return { data: {} };
  },

  asana_tasks_list: (input, ctx) => {
    if (!str(input.project) && !str(input.section) && !(str(input.assignee) && str(input.workspace_gid))) {
      throw new ToolFailure('invalid_input', 'Must specify exactly one of project, tag, section, user task list, or assignee + workspace');
    }
    return taskList(ctx.data.asana, filterTasks(ctx, input), input.opt_fields);
  },

  asana_project_tasks_list: (input, { data }) => {
    const project = data.asana.requireProject(requireString(input, 'project_gid'));
    return taskList(data.asana, data.asana.tasksInProject(project.gid), input.opt_fields);
  },

  asana_task_search: (input, ctx) => {
    ctx.data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    return taskList(ctx.data.asana, filterTasks(ctx, input), input.opt_fields);
  },

  asana_my_tasks_list: (input, ctx) => {
    const user = me(ctx);
    const tasks = [...ctx.data.asana.tasks.values()].filter((t) => t.assignee === user.gid && !t.completed);
    return taskList(ctx.data.asana, tasks, input.opt_fields);
  },

  asana_user_task_list_for_user_get: (input, ctx) => {
    const user = ctx.data.asana.requireUser(requireString(input, 'user_gid'), me(ctx));
    ctx.data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    return {
      data: {
        gid: `9${user.gid.slice(1)}`,
        resource_type: 'user_task_list',
        name: 'My Tasks',
        owner: ctx.data.asana.compactUser(user.gid),
        workspace: ctx.data.asana.compactWorkspace(),
      },
    };
  },

  asana_task_get: (input, { data }) => taskOut(data.asana, data.asana.requireTask(requireString(input, 'task_gid')), input.opt_fields),

  asana_task_create: (input, ctx) => {
    const store = ctx.data.asana;
    const ws = str(input.workspace_gid);
    if (ws) store.requireWorkspace(ws);
    const task = store.createTask(
      {
        name: requireString(input, 'name'),
        notes: str(input.notes),
        assignee: str(input.assignee) ?? null,
        due_on: str(input.due_on),
        start_on: str(input.start_on),
        projects: list(input.projects),
        followers: list(input.followers),
      },
      me(ctx),
    );
    return taskOut(store, task, input.opt_fields);
  },

  asana_subtask_create: (input, ctx) => {
    const store = ctx.data.asana;
    const parent = store.requireTask(requireString(input, 'task_gid'));
    const task = store.createTask(
      {
        name: requireString(input, 'name'),
        notes: str(input.notes),
        assignee: str(input.assignee) ?? null,
        due_on: str(input.due_on),
        parent: parent.gid,
      },
      me(ctx),
    );
    return taskOut(store, task, input.opt_fields);
  },

  asana_task_subtasks_list: (input, { data }) => {
    const parent = data.asana.requireTask(requireString(input, 'task_gid'));
    return taskList(
      data.asana,
      [...data.asana.tasks.values()].filter((t) => t.parent === parent.gid),
      input.opt_fields,
    );
  },

  asana_task_update: (input, ctx) => {
    const store = ctx.data.asana;
    const task = store.requireTask(requireString(input, 'task_gid'));
    const name = str(input.name);
    if (name !== undefined) {
      if (!name.trim()) throw new ToolFailure('invalid_input', 'name: Cannot be empty');
      task.name = name;
    }
    const notes = str(input.notes);
    if (notes !== undefined) task.notes = notes;
    if (input.assignee === null || input.assignee === 'null' || input.assignee === '') task.assignee = null;
    else if (str(input.assignee)) task.assignee = store.requireUser(str(input.assignee) as string, me(ctx)).gid;
    for (const key of ['due_on', 'start_on'] as const) {
      if (input[key] === null) task[key] = null;
      const v = str(input[key]);
      if (v !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new ToolFailure('invalid_input', `${key}: Invalid date: ${v}. Use YYYY-MM-DD.`);
        task[key] = v;
      }
    }
    const completed = bool(input.completed);
    if (completed !== undefined && completed !== task.completed) {
      task.completed = completed;
      task.completed_at = completed ? new Date(store.clock()).toISOString() : null;
    }
    task.modified_at = new Date(store.clock()).toISOString();
    return taskOut(store, task, input.opt_fields);
  },

  asana_task_delete: (input, { data }) => {
    data.asana.deleteTask(requireString(input, 'task_gid'));
    return { data: {} };
  },

  asana_task_add_followers: (input, ctx) => {
    const store = ctx.data.asana;
    const task = store.requireTask(requireString(input, 'task_gid'));
    for (const f of list(input.followers)) {
      const gid = store.requireUser(f, me(ctx)).gid;
      if (!task.followers.includes(gid)) task.followers.push(gid);
    }
    return taskOut(store, task, input.opt_fields);
  },

  asana_task_add_project: (input, { data }) => {
    const task = data.asana.requireTask(requireString(input, 'task_gid'));
    const project = data.asana.requireProject(requireString(input, 'project'));
    const section = str(input.section) ? data.asana.requireSection(str(input.section) as string) : data.asana.sections.find((s) => s.project === project.gid);
    if (!task.memberships.some((m) => m.project === project.gid)) task.memberships.push({ project: project.gid, section: section?.gid ?? null });
    return { data: {} };
  },

  asana_task_projects_list: (input, { data }) => {
    const task = data.asana.requireTask(requireString(input, 'task_gid'));
    return { data: task.memberships.map((m) => data.asana.compactProject(m.project)), next_page: null };
  },

  asana_story_create: (input, ctx) => {
    const story = ctx.data.asana.addComment(requireString(input, 'task_gid'), requireString(input, 'text'), me(ctx));
    const full = ctx.data.asana.fullStory(story);
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_story_get: (input, { data }) => {
    const gid = requireString(input, 'story_gid');
    const story = data.asana.stories.find((s) => s.gid === gid);
    if (!story) throw new ToolFailure('not_found', `story: Unknown object: ${gid}`);
    const full = data.asana.fullStory(story);
    return { data: pickFields(full, input.opt_fields, full) };
  },

  asana_task_stories_list: (input, { data }) => {
    const task = data.asana.requireTask(requireString(input, 'task_gid'));
    return {
      data: data.asana.storiesFor(task.gid).map((s) => {
        const full = data.asana.fullStory(s);
        return pickFields(full, input.opt_fields, {
          gid: s.gid,
          resource_type: 'story',
          created_at: s.created_at,
          created_by: full.created_by,
          resource_subtype: s.resource_subtype,
          text: s.text,
          type: s.type,
        });
      }),
      next_page: null,
    };
  },

  asana_typeahead_search: (input, { data }) => {
    data.asana.requireWorkspace(requireString(input, 'workspace_gid'));
    const q = (str(input.query) ?? '').toLowerCase();
    const type = str(input.resource_type) ?? 'task';
    const count = Math.min(Math.max(Number(input.count ?? 20) || 20, 1), 100);
    let hits: JsonRecord[];
    if (type === 'user') hits = data.asana.users.filter((u) => u.name.toLowerCase().includes(q)).map((u) => data.asana.compactUser(u.gid) ?? {});
    else if (type === 'project') hits = data.asana.projects.filter((p) => p.name.toLowerCase().includes(q)).map((p) => data.asana.compactProject(p.gid));
    else if (type === 'team')
      hits = data.asana.teams.filter((t) => t.name.toLowerCase().includes(q)).map((t) => ({ gid: t.gid, resource_type: 'team', name: t.name }));
    else hits = [...data.asana.tasks.values()].filter((t) => t.name.toLowerCase().includes(q)).map((t) => data.asana.compactTask(t));
    return { data: hits.slice(0, count) };
  },
};
