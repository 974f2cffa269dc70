#!/usr/bin/env node
// Release check: would the publishable packages work for someone who installs them from npm?
//
//   a. `changeset status` (the pending changesets parse and the release plan builds)
//   b. every publishable package (packages/*, not "private"): dist/ exists, `npm pack`,
//      then publint --strict and attw --profile node16 on the tarball (when installed)
//   c. a scratch project outside the workspace installs all the tarballs together
//   d. each package loads with `import` and with `require`, and exports something
//
// Usage: node tools/release-check.mjs [--keep]    (after `npm ci` and `npm run build`)
//   --keep   keep the scratch project and the tarballs, and print where they are
//
// Plain Node (>= 20), no dependencies. Runs offline when the npm cache holds the packages'
// third-party dependencies (`npm ci` puts them there).

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const scratchRoots = []; // temp dirs to remove on exit (unless --keep)
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const keep = process.argv.includes('--keep');
const unknown = process.argv.slice(2).filter((a) => a !== '--keep');
if (unknown.length) fail(`unknown argument(s): ${unknown.join(' ')} (allowed: --keep)`);

const isWin = process.platform === 'win32';
const npmCmd = isWin ? 'npm.cmd' : 'npm';

// ---------------------------------------------------------------------------------------------
// helpers

function log(msg = '') {
  process.stdout.write(`${msg}\n`);
}

function step(title) {
  log(`\n== ${title}`);
}

function cleanup() {
  for (const dir of scratchRoots.splice(0)) {
    if (keep) log(`(kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function fail(msg) {
  process.stderr.write(`\nrelease-check FAILED: ${msg}\n`);
  cleanup();
  process.exit(1);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** Run a command; returns { status, stdout, stderr }. Never throws. */
function run(cmd, args, { cwd = root, env = {}, echo = true, input } = {}) {
  if (echo)
    log(`$ ${[cmd, ...args].join(' ')}${cwd !== root ? `   (in ${displayPath(cwd)})` : ''}`);
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    input,
    shell: isWin && /\.cmd$/.test(cmd),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) return { status: -1, stdout: '', stderr: String(r.error.message) };
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function displayPath(p) {
  const rel = relative(root, p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** npm's warnings about this machine's or repo's config keys are noise here. */
function quietNpmStderr(text) {
  return text
    .split('\n')
    .filter((l) => !/^npm warn Unknown (project|user|global|env) config/.test(l))
    .join('\n')
    .trim();
}

function indent(text, pad = '    ') {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`cannot read ${displayPath(file)}: ${err.message}`);
  }
}

function localBin(name) {
  const p = join(root, 'node_modules', '.bin', isWin ? `${name}.cmd` : name);
  return existsSync(p) ? p : null;
}

function git(args) {
  return run('git', args, { echo: false });
}

// ---------------------------------------------------------------------------------------------
// workspace discovery

function listWorkspaceDir(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(abs, d.name, 'package.json')))
    .map((d) => {
      const path = join(abs, d.name);
      return { path, pkg: readJson(join(path, 'package.json')) };
    });
}

const packages = listWorkspaceDir('packages');
const apps = listWorkspaceDir('apps');
const publishable = packages.filter((p) => p.pkg.private !== true);
const workspaceVersions = new Map([...packages, ...apps].map((p) => [p.pkg.name, p.pkg.version]));

if (!existsSync(join(root, 'node_modules'))) {
  fail('node_modules/ is missing: run `npm ci` first');
}

// ---------------------------------------------------------------------------------------------
// a. changesets

step('a. changesets');
{
  const changesetBin = localBin('changeset');
  if (!changesetBin)
    fail(
      'node_modules/.bin/changeset is missing: run `npm ci` (@changesets/cli is a root devDependency)',
    );
  if (!existsSync(join(root, '.changeset', 'config.json')))
    fail('.changeset/config.json is missing');

  // Our own parse of every pending changeset, independent of git: names must be publishable
  // workspace packages, bump types patch|minor|major|none.
  const publishableNames = new Set(publishable.map((p) => p.pkg.name));
  const changesetFiles = readdirSync(join(root, '.changeset')).filter(
    (f) => f.endsWith('.md') && f !== 'README.md',
  );
  for (const file of changesetFiles) {
    const text = readFileSync(join(root, '.changeset', file), 'utf8');
    const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
    if (!m)
      fail(
        `.changeset/${file}: no front matter (expected ---\\n'<package>': <bump>\\n---\\n<summary>)`,
      );
    for (const line of m[1].split(/\r?\n/).filter((l) => l.trim())) {
      const lm = /^\s*['"]?([^'":]+)['"]?\s*:\s*(\w+)\s*$/.exec(line);
      if (!lm) fail(`.changeset/${file}: cannot parse line ${JSON.stringify(line)}`);
      const [, name, bump] = lm;
      if (!['patch', 'minor', 'major', 'none'].includes(bump)) {
        fail(
          `.changeset/${file}: bump type for ${name} is "${bump}"; allowed: patch, minor, major, none`,
        );
      }
      if (!publishableNames.has(name)) {
        const why = workspaceVersions.has(name) ? 'is private' : 'is not a workspace package';
        fail(
          `.changeset/${file}: ${name} ${why}; allowed: ${[...publishableNames].join(', ') || '(none)'}`,
        );
      }
    }
    if (!m[2].trim())
      fail(`.changeset/${file}: the summary (text after the front matter) is empty`);
  }
  log(`${changesetFiles.length} pending changeset(s) parsed`);

  // `changeset status` compares against a git ref. Pick one that exists in this clone.
  const args = ['status'];
  const inGit = git(['rev-parse', '--is-inside-work-tree']).stdout.trim() === 'true';
  if (!inGit) {
    log(
      'not a git checkout (or git is not installed): skipping `changeset status`, which needs git history',
    );
  } else {
    const hasRef = (ref) =>
      git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).status === 0;
    if (hasRef('refs/heads/main')) {
      // baseBranch "main" from .changeset/config.json
    } else if (hasRef('refs/remotes/origin/main')) {
      log('no local `main` branch; comparing against origin/main');
      args.push('--since=origin/main');
    } else {
      log(
        'no `main` ref in this clone (detached or single-branch checkout): comparing against HEAD, ' +
          'so this checks that the changesets and config are valid, not which packages changed',
      );
      args.push('--since=HEAD');
    }
    const r = run(changesetBin, args);
    const out = `${r.stdout}\n${quietNpmStderr(r.stderr)}`.trim();
    if (out) log(indent(out));
    if (r.status !== 0) {
      fail(
        '`changeset status` failed. If packages changed, add a changeset with `npx changeset` ' +
          '(or `npx changeset --empty` for changes that need no release).',
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// b. pack every publishable package

step('b. pack publishable packages');
for (const app of apps) {
  if (app.pkg.private !== true) {
    fail(`${displayPath(app.path)}/package.json (${app.pkg.name}): apps must be "private": true`);
  }
}
if (publishable.length === 0)
  fail('no publishable packages found (packages/*/package.json without "private": true)');

const workRoot = mkdtempSync(join(tmpdir(), 'matformer-release-check-'));
scratchRoots.push(workRoot);
const tarballDir = join(workRoot, 'tarballs');
mkdirSync(tarballDir);
const tarballs = new Map(); // name -> absolute path

for (const { path, pkg } of publishable) {
  const label = `${pkg.name}@${pkg.version}`;
  if (!pkg.name || !pkg.version)
    fail(`${displayPath(path)}/package.json: needs "name" and "version"`);
  if (!existsSync(join(path, 'dist'))) {
    fail(`${label}: ${displayPath(path)}/dist is missing: run \`npm run build\` first`);
  }
  // Internal dependencies must be real ranges the workspace version satisfies (DESIGN §4).
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
      if (!workspaceVersions.has(dep)) continue;
      if (!/^[~^]?\d+\.\d+\.\d+/.test(range)) {
        fail(
          `${label}: ${field}["${dep}"] is "${range}"; use a caret range such as "^${workspaceVersions.get(dep)}"`,
        );
      }
    }
  }

  const r = run(npmCmd, ['pack', '--json', '--pack-destination', tarballDir], { cwd: path });
  if (r.status !== 0)
    fail(`${label}: npm pack failed:\n${indent(quietNpmStderr(r.stderr) || r.stdout)}`);
  let info;
  try {
    // npm may print lifecycle-script output before the JSON array
    info = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')))[0];
  } catch {
    fail(`${label}: could not read \`npm pack --json\` output:\n${indent(r.stdout)}`);
  }
  const tgz = join(tarballDir, info.filename);
  if (!existsSync(tgz))
    fail(`${label}: npm pack reported ${info.filename} but it is not in ${tarballDir}`);
  tarballs.set(pkg.name, tgz);
  log(
    `  ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(1)} kB packed, ${(info.unpackedSize / 1024).toFixed(1)} kB unpacked`,
  );

  const publint = localBin('publint');
  if (publint) {
    const p = run(publint, ['run', tgz, '--strict']);
    const out = `${p.stdout}\n${p.stderr}`.trim();
    if (out) log(indent(out));
    if (p.status !== 0) fail(`${label}: publint --strict reported problems (above)`);
  } else {
    log('  publint is not installed: skipped (add it as a root devDependency)');
  }

  const attw = localBin('attw');
  if (attw) {
    const a = run(attw, [
      tgz,
      '--profile',
      'node16',
      '--format',
      'table',
      '--no-color',
      '--no-emoji',
    ]);
    const out = `${a.stdout}\n${a.stderr}`.trim();
    if (out) log(indent(out));
    if (a.status !== 0)
      fail(`${label}: @arethetypeswrong/cli (attw --profile node16) reported problems (above)`);
  } else {
    log('  attw is not installed: skipped (add @arethetypeswrong/cli as a root devDependency)');
  }
}

// ---------------------------------------------------------------------------------------------
// c. install the tarballs in a scratch project outside the workspace

step('c. install the tarballs in a scratch project');
const scratch = join(workRoot, 'project');
{
  mkdirSync(scratch);
  const init = run(npmCmd, ['init', '-y'], { cwd: scratch });
  if (init.status !== 0)
    fail(`npm init -y failed in ${scratch}:\n${indent(quietNpmStderr(init.stderr))}`);

  // Same npm settings as the repo (e.g. onnxruntime-node-install=skip), same install-script policy.
  if (existsSync(join(root, '.npmrc'))) copyFileSync(join(root, '.npmrc'), join(scratch, '.npmrc'));
  const rootPkg = readJson(join(root, 'package.json'));
  const scratchPkgPath = join(scratch, 'package.json');
  const scratchPkg = readJson(scratchPkgPath);
  scratchPkg.private = true;
  if (rootPkg.allowScripts) scratchPkg.allowScripts = rootPkg.allowScripts;
  writeFileSync(scratchPkgPath, `${JSON.stringify(scratchPkg, null, 2)}\n`);

  const r = run(
    npmCmd,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs.values()],
    {
      cwd: scratch,
      env: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
    },
  );
  const err = quietNpmStderr(r.stderr);
  if (r.stdout.trim()) log(indent(r.stdout));
  if (r.status !== 0) {
    fail(
      `npm install of the tarballs failed in ${scratch}:\n${indent(err)}\n` +
        'If a dependency could not be fetched, run `npm ci` online once so the npm cache has it.',
    );
  }
  if (err) log(indent(err));
}

// ---------------------------------------------------------------------------------------------
// d. load every package with import and with require

step('d. import and require each package');
for (const name of tarballs.keys()) {
  const esmCode =
    `import * as m from ${JSON.stringify(name)};` +
    `const names = Object.keys(m).filter((k) => k !== 'default').sort();` +
    `process.stdout.write('\\n@@' + JSON.stringify(names));`;
  const cjsCode =
    `const m = require(${JSON.stringify(name)});` +
    `const names = Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort();` +
    `process.stdout.write('\\n@@' + JSON.stringify(names));`;

  const results = {};
  for (const [kind, args] of [
    ['import', ['--input-type=module', '-e', esmCode]],
    ['require', ['--input-type=commonjs', '-e', cjsCode]],
  ]) {
    const r = run(process.execPath, args, { cwd: scratch, echo: false });
    const marker = r.stdout.lastIndexOf('\n@@');
    if (r.status !== 0 || marker < 0) {
      fail(
        `${kind}('${name}') failed in the scratch project:\n${indent((r.stderr || r.stdout).trim())}`,
      );
    }
    const names = JSON.parse(r.stdout.slice(marker + 3));
    if (names.length === 0) fail(`${kind}('${name}') loaded but has no named exports`);
    results[kind] = names;
    log(
      `  ${kind.padEnd(7)} ${name}: ${names.length} exports (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`,
    );
  }
  const onlyEsm = results.import.filter((n) => !results.require.includes(n));
  const onlyCjs = results.require.filter((n) => !results.import.includes(n));
  if (onlyEsm.length || onlyCjs.length) {
    fail(
      `${name}: the ESM and CommonJS builds export different names` +
        (onlyEsm.length ? `\n    only in import: ${onlyEsm.join(', ')}` : '') +
        (onlyCjs.length ? `\n    only in require: ${onlyCjs.join(', ')}` : ''),
    );
  }
}

if (keep) log(`\nscratch project: ${scratch}\ntarballs: ${tarballDir}`);
cleanup();
log(`\nrelease-check passed: ${[...tarballs.keys()].join(', ')}`);
