import type { WebviewMessage } from '../shared/protocol';

/** What item components need from the app. */
export interface ViewContext {
  post(message: WebviewMessage): void;
  readonly busy: boolean;
  isCardOpen(toolUseId: string): boolean;
  setCardOpen(toolUseId: string, open: boolean): void;
  isOutputExpanded(toolUseId: string): boolean;
  setOutputExpanded(toolUseId: string): void;
}
