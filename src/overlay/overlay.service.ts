import { Inject, Injectable } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Clock } from '../common/clock';
import { HeldarConfig } from '../config/heldar-config';
import { ProcessRunner } from '../process/process-runner';

export interface RemoteAccessDto {
  enabled: boolean;
  kind: string;
  iface: string | null;
  /** `/sys/class/net/<iface>` exists. */
  present: boolean;
  operstate: string | null;
  carrier: boolean | null;
  /** present and (operstate up/unknown, or the IFF_UP flag) — WireGuard reports `unknown` when working. */
  up: boolean;
  /** WireGuard only, when `wg` is installed: seconds since the newest peer handshake (null: none yet). */
  handshake_age_seconds: number | null;
  note: string | null;
}

const IFF_UP = 0x1;
const WG_TIMEOUT_MS = 2000;

/** Reads an interface's sysfs attributes; the root is a parameter so tests can point elsewhere. */
export class SysfsNet {
  constructor(private readonly root = '/sys/class/net') {}

  async read(iface: string, attr: string): Promise<string | null> {
    try {
      return (await readFile(join(this.root, iface, attr), 'utf8')).trim();
    } catch {
      return null;
    }
  }
}

/**
 * The remote-access overlay probe (WireGuard, Tailscale, NetBird): the kernel observes the tunnel's
 * interface, it never manages it. Evaluated on demand (`GET /api/v1/system`, metrics).
 */
@Injectable()
export class OverlayService {
  private readonly sysfs = new SysfsNet();

  constructor(
    private readonly runner: ProcessRunner,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async probe(): Promise<RemoteAccessDto> {
    const base = {
      enabled: this.config.overlayEnabled,
      kind: this.config.overlayKind,
      iface: this.config.overlayIface ?? null,
      present: false,
      operstate: null,
      carrier: null,
      up: false,
      handshake_age_seconds: null,
    };
    if (!this.config.overlayEnabled) return { ...base, note: 'remote-access overlay not enabled' };
    const iface = this.config.overlayIface;
    if (!iface) return { ...base, note: 'HELDAR_OVERLAY_IFACE is not set' };
    const [operstate, carrierText, flagsText] = await Promise.all([
      this.sysfs.read(iface, 'operstate'),
      this.sysfs.read(iface, 'carrier'),
      this.sysfs.read(iface, 'flags'),
    ]);
    const present = operstate !== null || flagsText !== null;
    if (!present) return { ...base, note: `interface ${iface} not found` };
    const flags = flagsText && /^0x[0-9a-f]+$/i.test(flagsText) ? parseInt(flagsText, 16) : null;
    const up = operstate === 'up' || operstate === 'unknown' || (flags !== null && (flags & IFF_UP) !== 0);
    const carrier = carrierText === '1' ? true : carrierText === '0' ? false : null;
    const handshake = this.config.overlayKind === 'wireguard' ? await this.wgHandshakeAge(iface) : null;
    return {
      ...base,
      present: true,
      operstate,
      carrier,
      up,
      handshake_age_seconds: handshake?.age ?? null,
      note: handshake?.note ?? (up ? null : `interface ${iface} is down`),
    };
  }

  /** `wg show <iface> latest-handshakes`: "<peer>\t<epoch>" per line, 0 = never. */
  private async wgHandshakeAge(iface: string): Promise<{ age: number | null; note: string | null }> {
    let r;
    try {
      r = await this.runner.runToCompletion('wg', ['show', iface, 'latest-handshakes'], {
        timeoutMs: WG_TIMEOUT_MS,
        maxOutputBytes: 64 * 1024,
      });
    } catch {
      return { age: null, note: 'wg is not installed: handshake age unknown' };
    }
    if (r.code !== 0)
      return { age: null, note: `wg show failed: ${r.stderr.trim().slice(0, 200) || `exit ${r.code}`}` };
    const newest = parseWgHandshakes(r.stdout);
    if (newest === null) return { age: null, note: 'no WireGuard peer has completed a handshake' };
    return { age: Math.max(0, Math.round(this.clock.nowMs() / 1000 - newest)), note: null };
  }
}

/** The newest handshake (epoch seconds) in `wg show <if> latest-handshakes` output; null when none. */
export function parseWgHandshakes(stdout: string): number | null {
  let newest: number | null = null;
  for (const line of stdout.split('\n')) {
    const epoch = Number(line.trim().split(/\s+/)[1]);
    if (Number.isFinite(epoch) && epoch > 0) newest = Math.max(newest ?? 0, epoch);
  }
  return newest;
}
