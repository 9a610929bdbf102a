// Seeded in-memory Asana workspace: users (Ada Lovelace, Grace Hopper, ...),
// teams, projects with sections, tasks with assignees, due dates and comments.
// Objects are serialized the way Asana's REST API does: compact records
// ({gid, resource_type, name}) in lists, full records from get/create/update,
// and `opt_fields` picks the fields of either.
import { type Clock, dayStart, isoAt, isoDay } from './clock';
import { SeededRandom } from './random';
import { ToolFailure } from './tool-failure';

export type JsonRecord = Record<string, unknown>;

export interface AsanaUser {
  gid: string;
  name: string;
  email: string;
}

export interface AsanaWorkspace {
  gid: string;
  name: string;
  is_organization: boolean;
}

export interface AsanaTeam {
  gid: string;
  name: string;
  description: string;
  members: string[];
}

export interface AsanaProject {
  gid: string;
  name: string;
  notes: string;
  color: string;
  archived: boolean;
  team: string;
  owner: string;
  members: string[];
  created_at: string;
  modified_at: string;
  due_on: string | null;
  start_on: string | null;
}

export interface AsanaSection {
  gid: string;
  name: string;
  project: string;
  created_at: string;
}

export interface AsanaTask {
  gid: string;
  name: string;
  notes: string;
  assignee: string | null;
  completed: boolean;
  completed_at: string | null;
  created_at: string;
  modified_at: string;
  due_on: string | null;
  start_on: string | null;
  followers: string[];
  /** Project gid → section gid. */
  memberships: Array<{ project: string; section: string | null }>;
  parent: string | null;
  tags: string[];
  created_by: string;
}

export interface AsanaStory {
  gid: string;
  task: string;
  type: 'comment' | 'system';
  resource_subtype: string;
  text: string;
  created_by: string;
  created_at: string;
}

interface ProjectSeed {
  name: string;
  team: string;
  color: string;
  notes: string;
  sections: string[];
  tasks: string[];
}

const PROJECTS: ProjectSeed[] = [
  {
    name: 'Website Relaunch',
    team: 'Marketing',
    color: 'light-blue',
    notes: 'New marketing site with the refreshed brand, launching next month.',
    sections: ['Backlog', 'In progress', 'Review', 'Done'],
    tasks: [
      'Write homepage copy',
      'Design pricing page',
      'Migrate blog posts',
      'Set up redirects from old URLs',
      'Add PostHog snippet to every page',
      'Run accessibility audit',
      'Compress hero images',
      'Draft launch announcement',
      'Review legal footer',
    ],
  },
  {
    name: 'Mobile App v2',
    team: 'Engineering',
    color: 'dark-green',
    notes: 'Second major version of the iOS and Android apps.',
    sections: ['To do', 'Doing', 'Done'],
    tasks: [
      'Implement offline mode',
      'Fix login crash on Android 14',
      'Add push notification settings',
      'Update onboarding screens',
      'Upgrade React Native',
      'Write release notes',
      'Submit build for review',
      'Instrument signup funnel events',
    ],
  },
  {
    name: 'Q3 Growth Experiments',
    team: 'Product',
    color: 'dark-orange',
    notes: 'Experiments to lift signup-to-paid conversion.',
    sections: ['Ideas', 'Running', 'Concluded'],
    tasks: [
      'Test annual plan discount',
      'Shorten signup form',
      'Referral credit experiment',
      'Pricing page social proof',
      'Trial length 14 vs 30 days',
      'Analyze signup drop-off',
      'Onboarding email sequence A/B',
    ],
  },
  {
    name: 'Onboarding Revamp',
    team: 'Product',
    color: 'purple',
    notes: 'Make the first session lead to the first success faster.',
    sections: ['To do', 'In progress', 'Done'],
    tasks: [
      'Interview five new customers',
      'Map current onboarding steps',
      'Design checklist widget',
      'Roll out new-onboarding-flow flag to 50%',
      'Measure activation rate weekly',
      'Remove legacy tour',
    ],
  },
  {
    name: 'Infrastructure',
    team: 'Engineering',
    color: 'dark-teal',
    notes: 'Platform reliability, cost and security work.',
    sections: ['Backlog', 'This sprint', 'Done'],
    tasks: [
      'Rotate database credentials',
      'Set up error budget alerts',
      'Move CI to larger runners',
      'Patch OpenSSL on build hosts',
      'Reduce log retention costs',
      'Quarterly disaster recovery drill',
    ],
  },
];

const COMMENTS = [
  'I can pick this up this week.',
  'Blocked on design review, will follow up tomorrow.',
  'Numbers look good so far, sharing the dashboard in standup.',
  'Can we move the due date by a few days?',
  'Done on my side, please review.',
  'Added notes from the customer call.',
  'This depends on the PostHog event naming being final.',
];

export class AsanaStore {
  readonly workspace: AsanaWorkspace;
  readonly users: AsanaUser[] = [];
  readonly teams: AsanaTeam[] = [];
  readonly projects: AsanaProject[] = [];
  readonly sections: AsanaSection[] = [];
  readonly tasks = new Map<string, AsanaTask>();
  readonly stories: AsanaStory[] = [];
  /** identifier → user gid, for "me". */
  private readonly identifierUsers = new Map<string, string>();
  private nextGid = 1_200_000_000_000_001;

  constructor(
    readonly clock: Clock,
    seed = 42,
  ) {
    const rng = new SeededRandom(seed ^ 0x85ebca6b);
    this.workspace = { gid: this.gid(), name: 'Acme Corp', is_organization: true };
    const people: Array<[string, string]> = [
      ['Ada Lovelace', 'ada@acme.example'],
      ['Grace Hopper', 'grace@acme.example'],
      ['Alan Turing', 'alan@acme.example'],
      ['Katherine Johnson', 'katherine@acme.example'],
      ['Linus Torvalds', 'linus@acme.example'],
      ['Margaret Hamilton', 'margaret@acme.example'],
    ];
    for (const [name, email] of people) this.users.push({ gid: this.gid(), name, email });
    const byFirst = (first: string): string => this.users.find((u) => u.name.startsWith(first))?.gid ?? '';
    const team = (name: string, description: string, members: string[]): void => {
      this.teams.push({ gid: this.gid(), name, description, members: members.map(byFirst) });
    };
    team('Engineering', 'Builds and runs the product.', ['Ada', 'Alan', 'Linus', 'Margaret']);
    team('Product', 'Decides what to build next.', ['Grace', 'Katherine', 'Ada']);
    team('Marketing', 'Tells the world about it.', ['Katherine', 'Grace']);
    for (const p of PROJECTS) this.seedProject(p, rng);
    this.seedDueThisWeek();
  }

  private gid(): string {
    return String(this.nextGid++);
  }

  /**
   * Every person has open tasks due this week (Monday to Sunday), so "my open tasks due this
   * week" has an answer any day: up to three of their open tasks get due dates from today on.
   */
  private seedDueThisWeek(): void {
    const todayIndex = (new Date(this.clock()).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
    for (const user of this.users) {
      const open = [...this.tasks.values()].filter((t) => t.assignee === user.gid && !t.completed);
      open.slice(0, 3).forEach((task, i) => {
        task.due_on = isoDay(dayStart(this.clock, -Math.min(6 - todayIndex, i * 2)));
      });
    }
  }

  private seedProject(seed: ProjectSeed, rng: SeededRandom): void {
    const team = this.teams.find((t) => t.name === seed.team);
    if (!team) throw new Error(`unknown team ${seed.team}`);
    const owner = team.members[0] ?? '';
    const project: AsanaProject = {
      gid: this.gid(),
      name: seed.name,
      notes: seed.notes,
      color: seed.color,
      archived: false,
      team: team.gid,
      owner,
      members: [...team.members],
      created_at: isoAt(this.clock, rng.int(60, 120)),
      modified_at: isoAt(this.clock, rng.int(0, 5)),
      due_on: isoDay(dayStart(this.clock, -rng.int(20, 60))),
      start_on: isoDay(dayStart(this.clock, rng.int(30, 60))),
    };
    this.projects.push(project);
    const sections = seed.sections.map((name) => {
      const s: AsanaSection = { gid: this.gid(), name, project: project.gid, created_at: project.created_at };
      this.sections.push(s);
      return s;
    });
    seed.tasks.forEach((name, i) => {
      const section = sections[Math.min(sections.length - 1, Math.floor((i * sections.length) / seed.tasks.length))] as AsanaSection;
      const done = section === sections[sections.length - 1];
      const assignee = rng.chance(0.85) ? rng.pick(team.members) : null;
      const createdDaysAgo = rng.int(10, 50);
      const task: AsanaTask = {
        gid: this.gid(),
        name,
        notes: `${name}. Part of ${seed.name}.`,
        assignee,
        completed: done,
        completed_at: done ? isoAt(this.clock, rng.int(1, 9), 15) : null,
        created_at: isoAt(this.clock, createdDaysAgo),
        modified_at: isoAt(this.clock, rng.int(0, 9)),
        due_on: rng.chance(0.8) ? isoDay(dayStart(this.clock, rng.int(-21, 6))) : null,
        start_on: null,
        followers: assignee ? [assignee] : [],
        memberships: [{ project: project.gid, section: section.gid }],
        parent: null,
        tags: [],
        created_by: owner,
      };
      this.tasks.set(task.gid, task);
      this.stories.push({
        gid: this.gid(),
        task: task.gid,
        type: 'system',
        resource_subtype: 'added_to_project',
        text: `added to ${seed.name}`,
        created_by: owner,
        created_at: task.created_at,
      });
      const comments = rng.int(0, 2);
      for (let c = 0; c < comments; c++) {
        this.stories.push({
          gid: this.gid(),
          task: task.gid,
          type: 'comment',
          resource_subtype: 'comment_added',
          text: rng.pick(COMMENTS),
          created_by: rng.pick(team.members),
          created_at: isoAt(this.clock, rng.int(0, createdDaysAgo), 11 + c),
        });
      }
    });
  }

  // ---- identity ---------------------------------------------------------

  /** Binds a Scalekit identifier to the Asana user it acts as. */
  bindIdentifier(identifier: string, userGid: string): void {
    this.requireUser(userGid);
    this.identifierUsers.set(identifier, userGid);
  }

  /**
   * The Asana user an identifier acts as: an explicit binding, else the user
   * whose first name or e-mail local part appears in the identifier's account id, its
   * last `:` segment (`oidc:<issuer tag>:grace` → Grace Hopper; the hex issuer tag could
   * spell "ada"), else Ada Lovelace.
   */
  userFor(identifier: string): AsanaUser {
    const bound = this.identifierUsers.get(identifier);
    if (bound) return this.requireUser(bound);
    const lower = (identifier.split(':').at(-1) ?? identifier).toLowerCase();
    const match = this.users.find((u) => {
      const first = u.name.split(' ')[0]?.toLowerCase() ?? '';
      const local = u.email.split('@')[0] ?? '';
      return lower.includes(first) || lower.includes(local);
    });
    return match ?? (this.users[0] as AsanaUser);
  }

  // ---- lookups ----------------------------------------------------------

  requireUser(gidOrMe: string, me?: AsanaUser): AsanaUser {
    if (gidOrMe === 'me' && me) return me;
    const user = this.users.find((u) => u.gid === gidOrMe || u.email === gidOrMe);
    if (!user) throw new ToolFailure('not_found', `user: Unknown object: ${gidOrMe}`);
    return user;
  }

  requireWorkspace(gid: string): AsanaWorkspace {
    if (gid !== this.workspace.gid) throw new ToolFailure('not_found', `workspace: Unknown object: ${gid}`);
    return this.workspace;
  }

  requireTeam(gid: string): AsanaTeam {
    const team = this.teams.find((t) => t.gid === gid);
    if (!team) throw new ToolFailure('not_found', `team: Unknown object: ${gid}`);
    return team;
  }

  requireProject(gid: string): AsanaProject {
    const project = this.projects.find((p) => p.gid === gid);
    if (!project) throw new ToolFailure('not_found', `project: Unknown object: ${gid}`);
    return project;
  }

  requireSection(gid: string): AsanaSection {
    const section = this.sections.find((s) => s.gid === gid);
    if (!section) throw new ToolFailure('not_found', `section: Unknown object: ${gid}`);
    return section;
  }

  requireTask(gid: string): AsanaTask {
    const task = this.tasks.get(gid);
    if (!task) throw new ToolFailure('not_found', `task: Unknown object: ${gid}`);
    return task;
  }

  tasksInProject(projectGid: string): AsanaTask[] {
    return [...this.tasks.values()].filter((t) => t.memberships.some((m) => m.project === projectGid));
  }

  tasksInSection(sectionGid: string): AsanaTask[] {
    return [...this.tasks.values()].filter((t) => t.memberships.some((m) => m.section === sectionGid));
  }

  storiesFor(taskGid: string): AsanaStory[] {
    return this.stories.filter((s) => s.task === taskGid);
  }

  // ---- writes -----------------------------------------------------------

  createTask(
    input: {
      name: string;
      notes?: string;
      assignee?: string | null;
      due_on?: string;
      start_on?: string;
      projects?: string[];
      followers?: string[];
      parent?: string;
      section?: string;
    },
    me: AsanaUser,
  ): AsanaTask {
    const now = new Date(this.clock()).toISOString();
    const projects = (input.projects ?? []).map((gid) => this.requireProject(gid));
    const section = input.section ? this.requireSection(input.section) : undefined;
    if (section && !projects.some((p) => p.gid === section.project)) projects.push(this.requireProject(section.project));
    const assignee = input.assignee ? this.requireUser(input.assignee, me).gid : null;
    const followers = new Set((input.followers ?? []).map((f) => this.requireUser(f, me).gid));
    followers.add(me.gid);
    if (assignee) followers.add(assignee);
    if (input.parent) this.requireTask(input.parent);
    for (const d of [input.due_on, input.start_on]) {
      if (d !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new ToolFailure('invalid_input', `due_on: Invalid date: ${d}. Use YYYY-MM-DD.`);
    }
    const task: AsanaTask = {
      gid: this.gid(),
      name: input.name,
      notes: input.notes ?? '',
      assignee,
      completed: false,
      completed_at: null,
      created_at: now,
      modified_at: now,
      due_on: input.due_on ?? null,
      start_on: input.start_on ?? null,
      followers: [...followers],
      memberships: projects.map((p) => ({
        project: p.gid,
        section: section && section.project === p.gid ? section.gid : (this.sections.find((s) => s.project === p.gid)?.gid ?? null),
      })),
      parent: input.parent ?? null,
      tags: [],
      created_by: me.gid,
    };
    this.tasks.set(task.gid, task);
    this.stories.push({
      gid: this.gid(),
      task: task.gid,
      type: 'system',
      resource_subtype: 'created',
      text: 'created this task',
      created_by: me.gid,
      created_at: now,
    });
    return task;
  }

  addComment(taskGid: string, text: string, me: AsanaUser): AsanaStory {
    this.requireTask(taskGid);
    if (!text.trim()) throw new ToolFailure('invalid_input', 'text: Missing input');
    const story: AsanaStory = {
      gid: this.gid(),
      task: taskGid,
      type: 'comment',
      resource_subtype: 'comment_added',
      text,
      created_by: me.gid,
      created_at: new Date(this.clock()).toISOString(),
    };
    this.stories.push(story);
    return story;
  }

  /** Deletes a task with its subtasks (recursively) and their stories, as Asana does. */
  deleteTask(gid: string): AsanaTask {
    const task = this.requireTask(gid);
    for (const child of [...this.tasks.values()].filter((t) => t.parent === gid)) this.deleteTask(child.gid);
    this.tasks.delete(gid);
    for (let i = this.stories.length - 1; i >= 0; i--) if (this.stories[i]?.task === gid) this.stories.splice(i, 1);
    return task;
  }

  newGid(): string {
    return this.gid();
  }

  // ---- serialization ----------------------------------------------------

  compactUser(gid: string | null): JsonRecord | null {
    if (!gid) return null;
    const u = this.users.find((x) => x.gid === gid);
    return u ? { gid: u.gid, resource_type: 'user', name: u.name } : { gid, resource_type: 'user', name: 'Unknown user' };
  }

  compactWorkspace(): JsonRecord {
    return { gid: this.workspace.gid, resource_type: 'workspace', name: this.workspace.name };
  }

  compactProject(gid: string): JsonRecord {
    const p = this.projects.find((x) => x.gid === gid);
    return { gid, resource_type: 'project', name: p?.name ?? 'Unknown project' };
  }

  compactSection(gid: string | null): JsonRecord | null {
    if (!gid) return null;
    const s = this.sections.find((x) => x.gid === gid);
    return { gid, resource_type: 'section', name: s?.name ?? 'Untitled section' };
  }

  compactTask(t: AsanaTask): JsonRecord {
    return { gid: t.gid, resource_type: 'task', name: t.name, resource_subtype: 'default_task' };
  }

  fullUser(u: AsanaUser): JsonRecord {
    return {
      gid: u.gid,
      resource_type: 'user',
      name: u.name,
      email: u.email,
      photo: null,
      workspaces: [this.compactWorkspace()],
    };
  }

  fullTeam(t: AsanaTeam): JsonRecord {
    return {
      gid: t.gid,
      resource_type: 'team',
      name: t.name,
      description: t.description,
      organization: this.compactWorkspace(),
      visibility: 'request_to_join',
    };
  }

  fullProject(p: AsanaProject): JsonRecord {
    return {
      gid: p.gid,
      resource_type: 'project',
      name: p.name,
      notes: p.notes,
      color: p.color,
      archived: p.archived,
      created_at: p.created_at,
      modified_at: p.modified_at,
      due_on: p.due_on,
      start_on: p.start_on,
      owner: this.compactUser(p.owner),
      team: { gid: p.team, resource_type: 'team', name: this.teams.find((t) => t.gid === p.team)?.name ?? '' },
      members: p.members.map((m) => this.compactUser(m)),
      workspace: this.compactWorkspace(),
      default_view: 'list',
      privacy_setting: 'public_to_workspace',
      public: true,
      permalink_url: `https://app.asana.com/0/${p.gid}/list`,
    };
  }

  fullSection(s: AsanaSection): JsonRecord {
    return { gid: s.gid, resource_type: 'section', name: s.name, created_at: s.created_at, project: this.compactProject(s.project) };
  }

  fullTask(t: AsanaTask): JsonRecord {
    const firstProject = t.memberships[0]?.project ?? '0';
    return {
      gid: t.gid,
      resource_type: 'task',
      resource_subtype: 'default_task',
      name: t.name,
      notes: t.notes,
      assignee: this.compactUser(t.assignee),
      assignee_status: t.assignee ? 'inbox' : null,
      completed: t.completed,
      completed_at: t.completed_at,
      created_at: t.created_at,
      modified_at: t.modified_at,
      due_on: t.due_on,
      due_at: null,
      start_on: t.start_on,
      followers: t.followers.map((f) => this.compactUser(f)),
      projects: t.memberships.map((m) => this.compactProject(m.project)),
      memberships: t.memberships.map((m) => ({ project: this.compactProject(m.project), section: this.compactSection(m.section) })),
      parent: t.parent && this.tasks.has(t.parent) ? this.compactTask(this.requireTask(t.parent)) : null,
      num_subtasks: [...this.tasks.values()].filter((x) => x.parent === t.gid).length,
      tags: [],
      workspace: this.compactWorkspace(),
      created_by: this.compactUser(t.created_by),
      permalink_url: `https://app.asana.com/0/${firstProject}/${t.gid}`,
    };
  }

  fullStory(s: AsanaStory): JsonRecord {
    const task = this.tasks.get(s.task);
    return {
      gid: s.gid,
      resource_type: 'story',
      type: s.type,
      resource_subtype: s.resource_subtype,
      text: s.text,
      created_at: s.created_at,
      created_by: this.compactUser(s.created_by),
      target: task ? this.compactTask(task) : { gid: s.task, resource_type: 'task' },
    };
  }
}

/** Applies Asana's `opt_fields` (comma-separated, dotted paths allowed) to a full record. */
export function pickFields(full: JsonRecord, optFields: unknown, fallback: JsonRecord): JsonRecord {
  if (typeof optFields !== 'string' || !optFields.trim()) return fallback;
  const out: JsonRecord = { gid: full.gid, resource_type: full.resource_type };
  for (const field of optFields.split(',')) {
    const top = field.trim().split('.')[0];
    if (top && top in full) out[top] = full[top];
  }
  return out;
}
