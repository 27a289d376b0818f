import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  copyFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  statfs,
  unlink,
  writeFile,
} from 'node:fs/promises';
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

  /** Names of the regular files and of the sub-directories of `dir`, without a `stat` per entry
   * (one `getdents`); both empty when the directory does not exist. */
  async listNames(dir: string): Promise<{ files: string[]; dirs: string[] }> {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return {
        files: entries.filter((d) => d.isFile()).map((d) => d.name),
        dirs: entries.filter((d) => d.isDirectory()).map((d) => d.name),
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { files: [], dirs: [] };
      throw err;
    }
  }

  /** Copy a file (the target is replaced). */
  async copy(from: string, to: string): Promise<void> {
    await copyFile(from, to);
  }

  /** Move a file (same filesystem: atomic). */
  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
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

  async writeBytes(path: string, data: Uint8Array): Promise<void> {
    await writeFile(path, data);
  }

  /** Unlink a file; false when it could not be removed (a missing file counts as removed). */
  async remove(path: string): Promise<boolean> {
    try {
      await unlink(path);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }

  /** Size and mtime of a file; null when it does not exist. */
  async stat(path: string): Promise<{ size: number; mtimeMs: number } | null> {
    return stat(path).then(
      (s) => (s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null),
      () => null,
    );
  }

  /** The mtime of a directory (it changes as entries are added, removed or renamed in it); null
   * when it is no directory. */
  async dirMtime(dir: string): Promise<number | null> {
    return stat(dir).then(
      (s) => (s.isDirectory() ? s.mtimeMs : null),
      () => null,
    );
  }

  /** Names of the sub-directories of `dir`; [] when it does not exist. */
  async listDirs(dir: string): Promise<string[]> {
    try {
      return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Remove `dir` only if it is empty. */
  async removeEmptyDir(dir: string): Promise<void> {
    await rmdir(dir).catch(() => undefined);
  }

  /** Size and space available to us (f_bavail) of the volume holding `path`; null if unknown. */
  async diskStats(path: string): Promise<{ totalBytes: number; freeBytes: number } | null> {
    try {
      const s = await statfs(path);
      return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    } catch {
      return null;
    }
  }

  /** The device id of the filesystem holding `path` (two paths on one volume share it); null if unknown. */
  async deviceOf(path: string): Promise<number | null> {
    return stat(path).then(
      (s) => s.dev,
      () => null,
    );
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
