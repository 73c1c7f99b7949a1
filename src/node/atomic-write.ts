/**
 * Files written so that a reader never sees half of one, directories created without Node's
 * recursive mkdir (which loops forever on /proc), and file-system errors as one line that names
 * the path and says what to do.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { DataError } from '../runtime/data/errors.js';

/** The suffix of a temporary file beside `path` (`cleanTemporaryFiles` in run-dir.ts removes leftovers). */
export const TEMP_MARK = '.tmp-';

/**
 * Writes `data` to `path` so that a reader never sees a half-written file: the bytes go to
 * `${path}.tmp-${pid}-${random}` in the same directory, are fsynced, then renamed over `path`.
 * Creates the parent directory if missing. On failure the temporary file is removed and a
 * DataError says in one line what failed (a full disk, a read-only directory, ...).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  if (path === '') throw new DataError('an empty path was given where a file to write was expected.');
  makeDirectory(dirname(path));
  const tmp = `${path}${TEMP_MARK}${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fileError(err, path, 'write');
  }
}

/**
 * `mkdir -p`: creates `dir` and its missing parents, one at a time. (Node's `mkdirSync(dir,
 * { recursive: true })` spins forever where mkdir says ENOENT under an existing parent, as in
 * /proc.) A path in the way that is not a directory, or a parent that refuses, is a DataError.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const kind = kindOf(at);
    if (kind === 'directory') break;
    if (kind !== 'missing') throw new DataError(`${at === resolve(dir) ? dir : at}: is a file, not a directory; give a directory path (or remove the file).`);
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && kindOf(d) === 'directory') continue;
      throw fileError(err, d === resolve(dir) ? dir : d, 'create the directory');
    }
  }
}

/** Whether `path` is a directory, something else, or missing. */
export function kindOf(path: string): 'directory' | 'file' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw fileError(err, path, 'read');
  }
}

/** What to do about each error code, after the path and the failed action. */
const ADVICE: Record<string, string> = {
  EACCES: 'permission denied; choose a place you can write to, or change its permissions',
  EPERM: 'the operation is not permitted there; choose another place',
  EROFS: 'the file system is read-only; choose a writable place',
  ENOSPC: 'the disk is full; free some space and try again',
  EDQUOT: 'the disk quota is exhausted; free some space and try again',
  EEXIST: 'a file is in the way; remove it or choose another path',
  ENOTDIR: 'a part of the path is a file, not a directory; fix the path',
  EISDIR: 'it is a directory; give a file name',
  ENOENT: 'no such file or directory (or the file system refuses to create one there); check the path',
  ENAMETOOLONG: 'the name is too long; choose a shorter path',
  EMFILE: 'too many open files; close some programs and try again',
  EIO: 'an input/output error; check the disk',
};

/**
 * A file-system error as a one-line DataError naming `path`: `runs/a: cannot write (EACCES:
 * permission denied; ...).` Errors that are already DataErrors pass through unchanged.
 */
export function fileError(err: unknown, path: string, action: string): Error {
  if (err instanceof DataError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return err as Error;
  const advice = ADVICE[code] ?? (err as Error).message.split('\n')[0];
  return new DataError(`${path === '' ? '""' : path}: cannot ${action} (${code}: ${advice}).`);
}

/** True for a temporary file that `writeFileAtomic` leaves behind when killed. */
export const isTemporaryFile = (name: string) => /\.tmp-\d+-[0-9a-z]+$/.test(basename(name));
