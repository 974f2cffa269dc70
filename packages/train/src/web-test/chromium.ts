// Debian's Chromium driven by playwright-core (which ships no browser), for browser tests.
// Node-only test utility; tests skip when the browser is absent (describe.skipIf(!hasChromium)).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export const chromiumMissing = (test: string) =>
  `${test} skipped: ${CHROMIUM} not found. Install it with \`apt-get install chromium\` (CI's .ci/run does) to run the browser test.`;

export interface Chromium {
  context: BrowserContext;
  page: Page;
  /** Console lines and uncaught page errors, for a failing test's message. */
  log: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile and nothing that reaches the network on its own. */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'matformer-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    log,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
