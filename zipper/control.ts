import { pack, unpack } from '../codecs/msgpack.ts';

/**
 * The control channel's messages. A client of kind `control` (admitted by the workflow's `control.token`,
 * not the sources' token) writes requests as Data frames on CONTROL_TAG, a tag reserved for the zipper; the
 * zipper hands each to its control handler (serve's) and answers on the same tag with the request's seq.
 * Riding the zipper's own listeners means the same addresses, TLS and trust flags as every other client.
 */

export const CONTROL_TAG = 1;

export interface DeployRequest {
  op: 'deploy';
  name: string;
  observe: string[];
  emit: string[];
  params: Record<string, unknown>;
  /** instances to run: autoscaled by backlog between max(min, 1) and max (serve/autoscale.ts); min 0: scaled to zero when idle */
  min: number;
  max: number;
  /** the .wasm module's bytes */
  wasm: Uint8Array;
  /** SHA-256 of `wasm` as the client read it: the zipper refuses bytes that do not match */
  hash: string;
  /** with min 0: seconds without a frame before the function is scaled to zero (default 60) */
  idle?: number;
  /** replacing a running version: start the new one empty instead of refusing when it cannot take the old one's state */
  freshState?: boolean;
  /** `cloud`: on the cluster's workers (the edge's workflow has a `cluster:`), not on this serve */
  where?: 'edge' | 'cloud';
}

/** a function's recent log lines: those after the `after`-th it ever had (0: every line kept) */
export interface LogsRequest {
  op: 'logs';
  name: string;
  after?: number;
}

export type ControlRequest = DeployRequest | { op: 'undeploy'; name: string } | { op: 'functions' } | LogsRequest;

export interface FunctionInfo {
  name: string;
  /** `workflow` for the file's functions, `deployed` for those deployed at run time */
  origin: 'workflow' | 'deployed';
  /** `cloud`: run by the cluster's workers, `instances` being the live workers that run it */
  where?: 'cloud';
  /** SHA-256 of the kernel module, for a deployed function */
  hash?: string;
  /** what a workflow's function runs: its kernel (a builtin's name or the .wasm file's) or its module */
  runs?: string;
  observe: string[];
  emit: string[];
  instances: number;
  /** a deployed function's bounds: it is autoscaled between them (0: scaled to zero when idle) */
  min?: number;
  max?: number;
}

export type ControlReply =
  | {
      ok: true;
      message: string;
      functions?: FunctionInfo[];
      /** what the listing could not include */
      note?: string;
      /**
       * a logs request's lines, the count to ask after next, lines no longer kept since `after`, and which
       * serve counted them (a serve started again counts from 0)
       */
      logs?: { lines: string[]; next: number; missed: number; serve?: string };
    }
  | { ok: false; error: string };

export type ControlHandler = (req: ControlRequest) => Promise<ControlReply>;

export const encodeControl = (m: ControlRequest | ControlReply): Uint8Array => pack(m);

export function decodeRequest(bytes: Uint8Array): ControlRequest {
  const m = unpack(bytes) as Partial<ControlRequest> | null;
  if (!m || typeof m !== 'object' || !['deploy', 'undeploy', 'functions', 'logs'].includes(String(m.op))) throw new Error('not a control request');
  return m as ControlRequest;
}

export const decodeReply = (bytes: Uint8Array): ControlReply => unpack(bytes) as ControlReply;
