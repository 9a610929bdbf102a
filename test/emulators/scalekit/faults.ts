// Injectable faults. Each fault fires on matching calls until it has fired
// `times` times (default: until clearFaults()).

export type TransportFaultKind = 'unavailable' | 'resourceExhausted' | 'unauthenticated';
export type ToolErrorCode = 'unauthorized' | 'forbidden' | 'rate_limit' | 'other';

export type Fault =
  | { kind: TransportFaultKind; rpc?: string; times?: number; message?: string }
  | { kind: 'toolError'; code: ToolErrorCode; toolName?: string; message?: string; times?: number }
  | { kind: 'latency'; ms: number; rpc?: string; times?: number }
  /** The RPC runs to the end (a tool acts), then its answer is lost: the caller sees Unavailable, as behind a proxy that reset. */
  | { kind: 'lostAnswer'; rpc?: string; times?: number }
  | { kind: 'hugeResult'; bytes: number; toolName?: string; times?: number };

export interface ActiveFault {
  readonly fault: Fault;
  /** How many more times it fires (Infinity = until cleared). */
  remaining: number;
  /** How many times it has fired. */
  fired: number;
}

/** "ExecuteTool", "executeTool" and "scalekit.v1.tools.ToolService/ExecuteTool" all match. */
export function rpcMatches(pattern: string | undefined, methodName: string): boolean {
  if (!pattern) return true;
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9/]/g, '');
  const p = norm(pattern);
  const m = norm(methodName);
  return p === m || p.endsWith(`/${m}`);
}

export class FaultSet {
  private readonly faults: ActiveFault[] = [];

  add(fault: Fault): ActiveFault {
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new Error(`fault.times must be a positive integer, got ${fault.times}`);
    }
    const active: ActiveFault = { fault, remaining: fault.times ?? Number.POSITIVE_INFINITY, fired: 0 };
    this.faults.push(active);
    return active;
  }

  clear(): void {
    this.faults.length = 0;
  }

  list(): readonly ActiveFault[] {
    return this.faults.filter((f) => f.remaining > 0);
  }

  /** Takes (consumes one use of) every live fault accepted by `match`. */
  takeAll<K extends Fault['kind']>(kind: K, match: (fault: Extract<Fault, { kind: K }>) => boolean): Array<Extract<Fault, { kind: K }>> {
    const taken: Array<Extract<Fault, { kind: K }>> = [];
    for (const active of this.faults) {
      if (active.remaining <= 0 || active.fault.kind !== kind) continue;
      const fault = active.fault as Extract<Fault, { kind: K }>;
      if (!match(fault)) continue;
      active.remaining -= 1;
      active.fired += 1;
      taken.push(fault);
    }
    return taken;
  }

  /** Takes the first live fault of any of `kinds` accepted by `match`. */
  takeFirst<K extends Fault['kind']>(kinds: readonly K[], match: (fault: Extract<Fault, { kind: K }>) => boolean): Extract<Fault, { kind: K }> | undefined {
    for (const active of this.faults) {
      if (active.remaining <= 0 || !(kinds as readonly string[]).includes(active.fault.kind)) continue;
      const fault = active.fault as Extract<Fault, { kind: K }>;
      if (!match(fault)) continue;
      active.remaining -= 1;
      active.fired += 1;
      return fault;
    }
    return undefined;
  }
}
