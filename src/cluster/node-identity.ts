import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { HeldarConfig } from '../config/heldar-config';

/** This kernel process among the nodes: its id (HELDAR_NODE_ID), and what tells this boot from any other. */
export class NodeIdentity {
  constructor(
    readonly nodeId: string,
    readonly url: string,
    /** New at every boot: a restart, or a second process with the same id, has another. */
    readonly bootId: string = randomUUID(),
    readonly host: string = hostname(),
    readonly pid: number = process.pid,
  ) {}

  static of(cfg: HeldarConfig): NodeIdentity {
    return new NodeIdentity(cfg.nodeId, cfg.nodeUrl ?? `http://${hostname()}:${cfg.apiPort}`);
  }
}
