// Debian's Chromium, driven by playwright-core (which never downloads a browser): a
// fresh profile, no network services, and every request that is not the report file
// itself recorded and refused, so a test can check that the page fetches nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  /** URLs the page tried to load besides the file itself. */
  external: string[];
  /** Script errors and console errors. */
  errors: string[];
  close(): Promise<void>;
}

export async function openFile(file: string, viewport = { width: 1200, height: 900 }): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'nnfpga-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
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
  const external: string[] = [];
  const errors: string[] = [];
  const url = `file://${file}`;
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    external.push(route.request().url());
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url, { waitUntil: 'load' });
  return {
    page,
    external,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
