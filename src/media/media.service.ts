import { Inject, Injectable } from '@nestjs/common';
import { HeldarConfig } from '../config/heldar-config';
import { maskUrl } from '../common/redaction';
import { ProcessRunner } from '../process/process-runner';
import { probeMp4 } from './mp4-probe';
import {
  buildFileProbeArgs,
  buildProbeArgs,
  parseFileProbe,
  parseProbeOutput,
  type ProbedFile,
  type ProbedStream,
} from './ffmpeg-args';

export type ProbeResult = ({ ok: true } & ProbedStream) | { ok: false; error: string };

/** ffmpeg/ffprobe adapter: runs the tools with arguments from the pure builders. */
@Injectable()
export class MediaService {
  constructor(
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly runner: ProcessRunner,
  ) {}

  /** Probe a live source within `timeoutMs` overall. Errors come back masked (URL credentials and
   * `secrets`, the camera's password wherever the URL holds it), never thrown. */
  async probe(url: string, timeoutMs: number, secrets: readonly string[] = []): Promise<ProbeResult> {
    const args = buildProbeArgs(url, { ioTimeoutMs: Math.max(1000, timeoutMs - 1000) });
    let res;
    try {
      res = await this.runner.runToCompletion(this.config.ffprobeBin, args, {
        timeoutMs,
        maxOutputBytes: 64 * 1024,
        redact: secrets,
      });
    } catch (err) {
      return { ok: false, error: maskUrl(`cannot run ffprobe: ${(err as Error).message}`, { secrets }) };
    }
    if (res.timedOut) return { ok: false, error: `no answer within ${Math.round(timeoutMs / 1000)} s` };
    const stream = res.code === 0 ? parseProbeOutput(res.stdout) : null;
    if (stream) return { ok: true, ...stream };
    const lastLine = res.stderr.trim().split('\n').filter(Boolean).pop();
    return {
      ok: false,
      error: maskUrl(
        lastLine ?? (res.code === 0 ? 'no video stream found' : `ffprobe exited with code ${res.code}`),
        { secrets },
      ),
    };
  }

  /** Probe a recorded file (duration, codec, size, fps); null when unreadable or empty.
   * The MP4 boxes are read in-process; ffprobe is the fallback for anything they do not explain. */
  async probeFile(path: string, timeoutMs = 20_000, knownSize?: number): Promise<ProbedFile | null> {
    const parsed = await probeMp4(path, knownSize);
    if (parsed) return parsed;
    const res = await this.runner.runToCompletion(this.config.ffprobeBin, buildFileProbeArgs(path), {
      timeoutMs,
      maxOutputBytes: 64 * 1024,
    });
    return res.code === 0 && !res.timedOut ? parseFileProbe(res.stdout) : null;
  }
}
