/**
 * Preloaded with `node --import` in tests: file-system faults a test cannot cause as root on a
 * normal disk. With VAE_FAULT_CODE (e.g. ENOSPC, EACCES) and VAE_FAULT_PATH (an absolute path),
 * every write under that path fails with that code:
 *   ENOSPC: files open for writing, but writing to them fails (a full disk);
 *   other codes: opening a file for writing, mkdir and access(W_OK) fail (e.g. a read-only directory).
 * Reads are untouched.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';

const code = process.env.VAE_FAULT_CODE;
const prefix = process.env.VAE_FAULT_PATH;

if (code && prefix) {
  const under = (p) => typeof p === 'string' && resolve(p).startsWith(prefix);
  const fault = (syscall, p) => Object.assign(new Error(`${code}: simulated fault, ${syscall} '${p}'`), { code, syscall, path: p });
  const writing = (flags) => typeof flags === 'string' && /[wa+]/.test(flags);
  const { openSync, writeSync, mkdirSync, accessSync } = fs;
  const full = new Set();
  fs.openSync = function (p, flags, ...rest) {
    if (under(p) && writing(flags) && code !== 'ENOSPC') throw fault('open', p);
    const fd = openSync.call(this, p, flags, ...rest);
    if (under(p) && writing(flags)) full.add(fd);
    return fd;
  };
  fs.writeSync = function (fd, ...rest) {
    if (full.has(fd)) throw fault('write', String(fd));
    return writeSync.call(this, fd, ...rest);
  };
  fs.mkdirSync = function (p, ...rest) {
    if (under(p) && code !== 'ENOSPC') throw fault('mkdir', p);
    return mkdirSync.call(this, p, ...rest);
  };
  fs.accessSync = function (p, mode, ...rest) {
    if (under(p) && code !== 'ENOSPC' && mode !== undefined && (mode & fs.constants.W_OK)) throw fault('access', p);
    return accessSync.call(this, p, mode, ...rest);
  };
  syncBuiltinESMExports();
}
