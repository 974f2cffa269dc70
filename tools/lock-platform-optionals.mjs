#!/usr/bin/env node
// Restore the other platforms' optional native packages in package-lock.json.
//
// Why: this machine's npm registry does not serve every platform's build of some native
// packages (e.g. @nx/nx-darwin-arm64@24.0.2, @rollup/rollup-win32-x64-msvc@4.68.x). `npm install`
// here silently drops an optional dependency it cannot fetch, so the lockfile lacks those
// entries, and `npm ci` then refuses the lockfile ("Missing: @nx/nx-darwin-arm64@ from lock
// file") on every machine, this one included. The missing entries are for other platforms, so
// npm never downloads them here; it only needs to see them in the lockfile.
//
// What: for every lockfile package with exact-version optionalDependencies that are absent,
// add an entry { version, os, cpu, libc, optional, dev } — os/cpu/libc taken from the package's
// registry metadata (any version; npm's cache is enough) — unless that package would install on
// this very platform (then it is genuinely missing, and this script says so and exits 1).
//
// Usage: node tools/lock-platform-optionals.mjs [--check]
//   Run it after any `npm install` that changed package-lock.json; `--check` only reports.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const lockPath = resolve(root, 'package-lock.json');
const check = process.argv.includes('--check');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

const exact = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const glibc = process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';

function matchesHere(meta) {
  const ok = (list, value) => {
    if (!list?.length) return true;
    if (list.includes(`!${value}`)) return false;
    const allowed = list.filter((v) => !v.startsWith('!'));
    return allowed.length === 0 || allowed.includes(value);
  };
  return (
    ok(meta.os, process.platform) &&
    ok(meta.cpu, process.arch) &&
    (process.platform !== 'linux' || ok(meta.libc, glibc))
  );
}

function platformMeta(name, version) {
  for (const spec of [`${name}@${version}`, name]) {
    const r = spawnSync(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['view', spec, 'os', 'cpu', 'libc', '--json', '--prefer-offline'],
      { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' },
    );
    if (r.status === 0 && r.stdout.trim()) {
      const meta = JSON.parse(r.stdout);
      // with several matching versions npm prints an array; the fields do not change by version
      return Array.isArray(meta) ? meta[meta.length - 1] : meta;
    }
  }
  return null;
}

/** Where node's resolution from `from` would look for `name`, nearest first. */
function candidates(from, name) {
  const out = [];
  let dir = from;
  while (dir) {
    out.push(`${dir}/node_modules/${name}`);
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
  out.push(`node_modules/${name}`);
  return [...new Set(out)];
}

const added = [];
const additions = {};
let problems = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  if (!path || !entry.optionalDependencies) continue;
  for (const [dep, spec] of Object.entries(entry.optionalDependencies)) {
    if (candidates(path, dep).some((c) => pkgs[c])) continue;
    if (!exact.test(spec)) {
      console.warn(`skip ${dep}@${spec} (optional dependency of ${path}): not an exact version`);
      continue;
    }
    const meta = platformMeta(dep, spec);
    if (!meta || !(meta.os || meta.cpu)) {
      console.warn(
        `skip ${dep}@${spec} (optional dependency of ${path}): no os/cpu metadata found`,
      );
      continue;
    }
    if (matchesHere(meta)) {
      console.error(
        `${dep}@${spec} (optional dependency of ${path}) is missing from the lockfile but would ` +
          `install on this platform: run \`npm install\` so npm resolves it`,
      );
      problems++;
      continue;
    }
    const key = pkgs[`node_modules/${dep}`] ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    const record = { version: spec };
    if (meta.cpu) record.cpu = [].concat(meta.cpu);
    if (entry.dev) record.dev = true;
    if (meta.libc) record.libc = [].concat(meta.libc);
    record.optional = true;
    if (meta.os) record.os = [].concat(meta.os);
    pkgs[key] = record;
    additions[key] = record;
    added.push(`${key}@${spec}`);
  }
}

if (added.length) {
  console.log(`${check ? 'missing' : 'added'} ${added.length} other-platform optional entries:`);
  for (const a of added) console.log(`  ${a}`);
  if (check) process.exit(1);
  // Re-read just before writing, so an install that ran meanwhile is not overwritten.
  const fresh = JSON.parse(readFileSync(lockPath, 'utf8'));
  for (const [key, record] of Object.entries(additions)) fresh.packages[key] ??= record;
  const [rootKey, ...rest] = Object.keys(fresh.packages);
  const sorted = { [rootKey]: fresh.packages[rootKey] };
  for (const k of rest.sort((a, b) => a.localeCompare(b, 'en'))) sorted[k] = fresh.packages[k];
  fresh.packages = sorted;
  writeFileSync(lockPath, `${JSON.stringify(fresh, null, 2)}\n`);
} else {
  console.log('package-lock.json: no other-platform optional entries missing');
}
process.exit(problems ? 1 : 0);
