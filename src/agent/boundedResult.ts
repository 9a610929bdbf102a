// Tool results are bounded before they reach the model or the webview, so a 10 MB answer
// neither blows the context window nor freezes the UI.

export const maxToolResultBytes = 64 * 1024;

export interface BoundedText {
  readonly text: string;
  readonly bytes: number;
  readonly truncated: boolean;
}

/** JSON (pretty for people, compact for the model) or the string itself,, cut at a UTF-8 byte budget with a clear note. */
export function boundToolResult(data: unknown, maxBytes = maxToolResultBytes, pretty = true): BoundedText {
  const text = typeof data === 'string' ? data : safeStringify(data, pretty);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, bytes, truncated: false };
  const cut = sliceUtf8(text, maxBytes);
  return {
    text: `${cut}\n\n[OnBehalf cut this result: it was ${formatBytes(bytes)} and only the first ${formatBytes(maxBytes)} is shown. Ask for a narrower query (filters, fewer fields, a smaller page) to see the rest.]`,
    bytes,
    truncated: true,
  };
}

export function safeStringify(value: unknown, pretty = true): string {
  try {
    const text = JSON.stringify(value, null, pretty ? 2 : undefined);
    return text === undefined ? 'null' : text;
  } catch {
    return String(value);
  }
}

function sliceUtf8(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text, 'utf8').subarray(0, maxBytes);
  // Drop a trailing partial character rather than emit U+FFFD.
  return buffer.toString('utf8').replace(/\uFFFD$/, '');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
