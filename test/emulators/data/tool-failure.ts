// A failure raised by a tool handler. The Scalekit emulator turns it into a
// gRPC error carrying Scalekit's TOOL_ERROR detail (see README.md).

export type ToolFailureKind = 'invalid_input' | 'not_found' | 'conflict' | 'unauthorized' | 'forbidden' | 'rate_limit' | 'other';

export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';

  constructor(
    readonly kind: ToolFailureKind,
    message: string,
  ) {
    super(message);
  }

  static is(value: unknown): value is ToolFailure {
    return value instanceof ToolFailure;
  }
}
