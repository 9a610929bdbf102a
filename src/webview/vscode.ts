import type { WebviewMessage } from '../shared/protocol';

/** What the webview keeps in `vscode.setState`, so it survives the view being hidden. */
export interface PersistedState {
  readonly draft: string;
  /** Tool cards the user expanded (toolUseIds). */
  readonly openCards: readonly string[];
  /** Tool cards whose full output the user revealed. */
  readonly expandedOutputs: readonly string[];
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState<T>(state: T): T;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface HostBridge {
  post(message: WebviewMessage): void;
  load(): PersistedState;
  save(state: PersistedState): void;
}

const maxRemembered = 200;

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(-maxRemembered) : [];
}

/** Acquires the VS Code API (it may be acquired only once per page). */
export function createHostBridge(): HostBridge {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    load: () => {
      const raw = api.getState();
      const obj = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
      return {
        draft: typeof obj['draft'] === 'string' ? obj['draft'] : '',
        openCards: stringList(obj['openCards']),
        expandedOutputs: stringList(obj['expandedOutputs']),
      };
    },
    save: (state) => {
      api.setState({
        draft: state.draft,
        openCards: state.openCards.slice(-maxRemembered),
        expandedOutputs: state.expandedOutputs.slice(-maxRemembered),
      });
    },
  };
}
