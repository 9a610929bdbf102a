// Deterministic markdown answers of a given size, one per block shape the chat streams:
// a long table, a long tight list, a long code fence, and a mixed answer that holds a
// 40 KB table, a long tight list and a long code fence between ordinary paragraphs.
// Shared by the render benchmark and the streaming UI tests.

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
}

const words = 'signups retention funnel insight cohort weekly daily task project sprint owner due metric event query chart growth churn active users'.split(
  ' ',
);

function phrase(rand: () => number, n: number): string {
  return Array.from({ length: n }, () => words[Math.floor(rand() * words.length)] ?? 'data').join(' ');
}

/** A table of about `bytes` characters (header, alignment row, one row per day). */
export function tableMarkdown(bytes: number, seed = 1): string {
  const rand = random(seed);
  const lines = ['| day | event | signups | active | note |', '|:--|:--|--:|--:|:--|'];
  let size = lines.join('\n').length;
  for (let i = 0; size < bytes; i++) {
    const day = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    const row = `| ${day} | \`${words[i % words.length]}\` | ${Math.floor(rand() * 1000)} | ${Math.floor(rand() * 9000)} | ${rand() < 0.2 ? `**${phrase(rand, 2)}**` : phrase(rand, 3)} |`;
    lines.push(row);
    size += row.length + 1;
  }
  return lines.join('\n');
}

/** A tight bullet list of about `bytes` characters, some items with a nested list. */
export function listMarkdown(bytes: number, seed = 2): string {
  const rand = random(seed);
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const item = [`- **Task ${i + 1}**: ${phrase(rand, 6 + Math.floor(rand() * 8))} ([link](https://app.asana.example/0/${i}))`];
    if (i % 7 === 3) item.push(`  - owner: ${phrase(rand, 2)}`, `  - due: 2024-06-${String((i % 28) + 1).padStart(2, '0')}`);
    lines.push(...item);
    size += item.join('\n').length + 1;
  }
  return lines.join('\n');
}

/** A code fence of about `bytes` characters. */
export function fenceMarkdown(bytes: number, seed = 3): string {
  const rand = random(seed);
  const lines = ['```ts'];
  let size = 6;
  for (let i = 0; size < bytes; i++) {
    const line = i % 9 === 8 ? '' : `  const v${i} = await query("${words[i % words.length]}", { days: ${Math.floor(rand() * 90)} }); // ${phrase(rand, 3)}`;
    lines.push(line);
    size += line.length + 1;
  }
  lines.push('```');
  return lines.join('\n');
}

/** Deterministic markdown of about `bytes` characters: paragraphs, headings, short lists, fences and tables. */
export function sampleMarkdown(bytes: number): string {
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const words =
    'signups retention funnel insight cohort weekly daily task project sprint owner due metric event query chart growth churn active users dashboard'.split(
      ' ',
    );
  const sentence = () => {
    const n = 8 + Math.floor(rand() * 12);
    const ws: string[] = [];
    for (let i = 0; i < n; i++) {
      const w = words[Math.floor(rand() * words.length)] ?? 'data';
      const r = rand();
      ws.push(r < 0.05 ? `**${w}**` : r < 0.09 ? `\`${w}\`` : r < 0.11 ? `[${w}](https://app.posthog.example/${w})` : w);
    }
    const s = ws.join(' ');
    return s.charAt(0).toUpperCase() + s.slice(1) + '.';
  };
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    let block: string;
    const r = rand();
    if (r < 0.08) block = `## Section ${++section}`;
    else if (r < 0.45) block = [sentence(), sentence(), sentence()].join(' ');
    else if (r < 0.62) block = Array.from({ length: 3 + Math.floor(rand() * 4) }, () => `- ${sentence()}`).join('\n');
    else if (r < 0.72) block = Array.from({ length: 3 + Math.floor(rand() * 3) }, (_, i) => `${i + 1}. ${sentence()}`).join('\n');
    else if (r < 0.9) {
      const lines = Array.from({ length: 6 + Math.floor(rand() * 10) }, (_, i) =>
        i % 5 === 4 ? '' : `  const v${i} = await query("${words[i % words.length]}", { days: ${i} });`,
      );
      block = ['```ts', ...lines, '```'].join('\n');
    } else
      block = [
        '| day | signups | active |',
        '|:--|--:|--:|',
        ...Array.from({ length: 5 }, (_, i) => `| 2024-05-0${i + 1} | ${Math.floor(rand() * 100)} | ${Math.floor(rand() * 900)} |`),
      ].join('\n');
    parts.push(block);
    size += block.length + 2;
  }
  return parts.join('\n\n').slice(0, bytes);
}

/** Ordinary prose and small blocks around a 40 KB table, a long tight list and a long fence. */
export function mixedMarkdown(bytes: number): string {
  const big = Math.floor(bytes / 5);
  // Prose cut at a block boundary, with no fence left open (it would swallow the blocks after it).
  const prose = (n: number, seed: number) => {
    let text = sampleMarkdown(n).replace(/^## Section/gm, `## Part ${seed}`);
    text = text.slice(0, text.lastIndexOf('\n\n'));
    return (text.match(/^```/gm) ?? []).length % 2 ? `${text}\n\`\`\`` : text;
  };
  const parts = [
    prose(Math.floor(bytes / 10), 1),
    'Signups per day:',
    tableMarkdown(Math.min(40 * 1024, big), 11),
    prose(Math.floor(bytes / 10), 2),
    listMarkdown(big, 12),
    'The query behind it:',
    fenceMarkdown(big, 13),
    prose(Math.floor(bytes / 10), 3),
  ];
  return parts.join('\n\n').slice(0, bytes);
}

export type Shape = 'table' | 'list' | 'fence' | 'mixed';
export const SHAPES: readonly Shape[] = ['table', 'list', 'fence', 'mixed'];

export function shapeMarkdown(shape: Shape, bytes: number): string {
  switch (shape) {
    case 'table':
      return tableMarkdown(bytes);
    case 'list':
      return listMarkdown(bytes);
    case 'fence':
      return fenceMarkdown(bytes);
    case 'mixed':
      return mixedMarkdown(bytes);
  }
}
