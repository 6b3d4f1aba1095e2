#!/usr/bin/env node
// Builds the Teams tab (tab/) into a folder a static server can serve as it is:
//
//   node scripts/tab/build-tab.mjs OUT
//
// The pages, styles and the vendored TeamsJS are copied; each page's module script is bundled
// by esbuild (pinned in package-lock.json), which brings in the npm packages the tab imports
// (@azure/communication-common's AzureCommunicationTokenCredential). Nothing is fetched at run
// time and no CDN is involved. THIRD-PARTY-NOTICES.txt lists the licence of every bundled
// package. scripts/deploy/stage_tab.py (what azd deploys) and the sandbox (what it serves) both run
// this, so both serve the same bytes. Exit status: 0 built, 1 failed (the reason is printed).

import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TAB = path.join(ROOT, 'tab');

/** Files served as they are. TeamsJS stays a classic script from vendor/ (see tab/README.md). */
function copiedFiles() {
  const top = readdirSync(TAB).filter((name) => /\.(html|css)$/.test(name));
  const teamsJs = readdirSync(path.join(TAB, 'vendor', 'teams-js')).map((name) => `vendor/teams-js/${name}`);
  return [...top, ...teamsJs];
}

/** The module script each page loads: the bundles' entry points. */
function entryPoints() {
  const entries = new Set();
  for (const page of readdirSync(TAB).filter((name) => name.endsWith('.html'))) {
    const html = readFileSync(path.join(TAB, page), 'utf8');
    for (const [, src] of html.matchAll(/<script type="module" src="([^"]+)"><\/script>/g)) {
      entries.add(src);
    }
  }
  return [...entries].sort();
}

/** The package folder (under node_modules) a bundled input file belongs to. */
function packageOf(input) {
  const match = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  return match ? match[1] : null;
}

function notices(inputs) {
  const folders = [...new Set(inputs.map(packageOf).filter(Boolean))].sort();
  const parts = ['Packages bundled into the Remote Expert tab, with their licences.\n'];
  for (const folder of folders) {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, folder, 'package.json'), 'utf8'));
    const licenceFile = readdirSync(path.join(ROOT, folder)).find((name) => /^licen[cs]e/i.test(name));
    if (!licenceFile) throw new Error(`${manifest.name} ${manifest.version} ships no licence file`);
    parts.push(`==== ${manifest.name} ${manifest.version} (${manifest.license})\n`);
    parts.push(readFileSync(path.join(ROOT, folder, licenceFile), 'utf8').trim() + '\n');
  }
  return parts.join('\n');
}

async function main() {
  const out = process.argv[2];
  if (!out || process.argv.length > 3) {
    console.error('usage: node scripts/tab/build-tab.mjs OUT');
    return 2;
  }
  const target = path.resolve(out);
  if (existsSync(target)) rmSync(target, { recursive: true });
  mkdirSync(target, { recursive: true });
  for (const file of copiedFiles()) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    copyFileSync(path.join(TAB, file), path.join(target, file));
  }
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: entryPoints().map((entry) => path.join(TAB, entry)),
    outdir: target,
    outbase: TAB,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    // Licence comments go to THIRD-PARTY-NOTICES.txt instead, with the packages' licence files.
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  writeFileSync(path.join(target, 'THIRD-PARTY-NOTICES.txt'), notices(Object.keys(result.metafile.inputs)));
  return 0;
}

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(`build-tab: ${error.message}`);
    process.exit(1);
  },
);
