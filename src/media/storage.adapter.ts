import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

/** The filesystem as an adapter (listing, directories, removal) so services never call `fs`. */
@Injectable()
export class StorageAdapter {
  /** Regular files of `dir` with size and mtime; [] when the directory does not exist. */
  async listFiles(dir: string): Promise<FileEntry[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: FileEntry[] = [];
    for (const name of names) {
      try {
        const st = await stat(join(dir, name));
        if (st.isFile()) out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        /* vanished between readdir and stat */
      }
    }
    return out;
  }

  async ensureDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
  }

  async removeDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  async writeText(path: string, text: string): Promise<void> {
    await writeFile(path, text, 'utf8');
  }

  async remove(path: string): Promise<void> {
    await unlink(path).catch(() => undefined);
  }

  async size(path: string): Promise<number | null> {
    return stat(path).then(
      (s) => s.size,
      () => null,
    );
  }

  /** SHA-256 of a file, streamed. */
  sha256(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path)
        .on('data', (chunk) => h.update(chunk))
        .on('error', reject)
        .on('end', () => resolve(h.digest('hex')));
    });
  }

  read(path: string): Promise<Buffer> {
    return readFile(path);
  }
}
