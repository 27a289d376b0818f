import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ProcessRunner } from './process-runner';
import {
  SupervisedProcess,
  type SupervisedProcessSpec,
  type SupervisedProcessStatus,
} from './supervised-process';

/** A spec for the supervisor: the runner defaults to the injected one. */
export type ManagedProcessSpec = Omit<SupervisedProcessSpec, 'runner'> & { runner?: ProcessRunner };

export interface ManagedProcessEntry {
  key: string;
  status: SupervisedProcessStatus;
}

/**
 * Named SupervisedProcess instances, at most one child per key: a new instance for a key only starts
 * once every previous instance for that key has exited (e.g. a recorder that is still flushing).
 */
@Injectable()
export class ProcessSupervisor implements OnApplicationShutdown {
  private readonly logger = new Logger(ProcessSupervisor.name);
  private readonly processes = new Map<string, SupervisedProcess>();
  /** Per key: resolves when every instance retired from that key has exited. Never rejects. */
  private readonly retiring = new Map<string, Promise<void>>();
  private shutDown = false;

  constructor(private readonly runner: ProcessRunner) {}

  /** Returns the process for `key`, creating and starting it if absent. */
  ensure(key: string, spec: ManagedProcessSpec): SupervisedProcess {
    const existing = this.processes.get(key);
    if (existing) return existing;
    return this.install(key, spec).proc;
  }

  /** Stops the current process for `key` (if any), then starts a new one from `spec`. The new
   * instance is registered at once (ensure() returns it) and resolves once started. */
  async replace(key: string, spec: ManagedProcessSpec): Promise<SupervisedProcess> {
    const old = this.processes.get(key);
    if (old) this.retire(key, old);
    const { proc, started } = this.install(key, spec);
    await started;
    return proc;
  }

  /** Stops and forgets the process for `key`; resolves when it (and any earlier one) has exited. */
  stop(key: string): Promise<void> {
    const proc = this.processes.get(key);
    if (proc) this.retire(key, proc);
    return this.retiring.get(key) ?? Promise.resolve();
  }

  get(key: string): SupervisedProcess | undefined {
    return this.processes.get(key);
  }

  list(): ManagedProcessEntry[] {
    return [...this.processes].map(([key, proc]) => ({ key, status: proc.status() }));
  }

  /** Stops every process in parallel. */
  async stopAll(): Promise<void> {
    const keys = new Set([...this.processes.keys(), ...this.retiring.keys()]);
    await Promise.all([...keys].map((key) => this.stop(key)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.shutDown = true;
    await this.stopAll();
  }

  private install(
    key: string,
    spec: ManagedProcessSpec,
  ): { proc: SupervisedProcess; started: Promise<void> } {
    if (this.shutDown) throw new Error(`ProcessSupervisor is shut down; refusing to start ${key}`);
    const proc = new SupervisedProcess({ ...spec, runner: spec.runner ?? this.runner });
    this.processes.set(key, proc);
    const start = (): void => {
      // Skipped when the instance was stopped or replaced while waiting.
      if (this.processes.get(key) === proc && !proc.stopRequested) proc.start();
    };
    const pending = this.retiring.get(key);
    if (!pending) {
      start();
      return { proc, started: Promise.resolve() };
    }
    const started = pending.then(start);
    void started.catch((err: unknown) => this.logger.error(`starting ${key} failed: ${String(err)}`));
    return { proc, started };
  }

  private retire(key: string, proc: SupervisedProcess): void {
    if (this.processes.get(key) === proc) this.processes.delete(key);
    const previous = this.retiring.get(key) ?? Promise.resolve();
    const done: Promise<void> = Promise.all([previous, proc.stop()]).then(() => {
      if (this.retiring.get(key) === done) this.retiring.delete(key);
    });
    this.retiring.set(key, done);
  }
}
