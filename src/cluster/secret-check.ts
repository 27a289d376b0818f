import { Inject, Injectable, Logger } from '@nestjs/common';
import { maskUrl } from '../common/redaction';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { secretCheckValue, secretMismatchMessage } from './node-auth';
import { NodesRepository } from './nodes.repository';

/** Boot refused: this node's HELDAR_SECRET_KEY is not the one of the cluster. */
export class SecretKeyMismatch extends Error {
  override name = 'SecretKeyMismatch';
}

/**
 * Every node of a cluster must hold the same HELDAR_SECRET_KEY: camera credentials are sealed with
 * it and nodes authenticate each other with a key derived from it. At boot on PostgreSQL, the first
 * node stores a check value derived from the key (`cluster_meta.secret_check`, insert if absent);
 * every node compares it and refuses to start on a mismatch. Not on SQLite (one node: nothing to
 * agree with, and no query added there).
 */
@Injectable()
export class SecretCheck {
  private readonly logger = new Logger('Cluster');

  constructor(
    private readonly repo: NodesRepository,
    private readonly box: SecretBox,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async verify(): Promise<void> {
    if (this.config.isSqlite) return;
    const mine = secretCheckValue(this.box);
    const stored = await this.repo.metaOrInsert('secret_check', mine);
    if (stored === mine) return;
    const message = secretMismatchMessage(maskUrl(this.config.databaseUrl));
    this.logger.error(message);
    throw new SecretKeyMismatch(message);
  }
}
