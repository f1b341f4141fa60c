import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

/**
 * axe-core (Deque's accessibility engine) run inside the page, on the WCAG 2 A and AA rules. The engine is
 * the package's own browser build, injected as a script, so it checks what Chromium actually rendered:
 * computed colours over the real backgrounds, names, roles, labels.
 */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.0 and 2.1 levels A and AA (axe's tags). */
export const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** One failed rule: its id, what it checks, and each failing element with axe's explanation. */
export interface AxeViolation {
  id: string;
  help: string;
  nodes: Array<{ target: string; summary: string }>;
}

/** The WCAG 2 AA violations on the page as it is now (an empty list when it passes). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async (tags) => {
    type AxeResult = { violations: Array<{ id: string; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> };
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<AxeResult> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })) }));
  }, WCAG_AA_TAGS);
}

/** Readable lines for a failed expectation: rule, element, why. */
export function describeViolations(vs: AxeViolation[]): string {
  return vs.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.help}) at ${n.target}: ${n.summary.replace(/\s+/g, ' ')}`)).join('\n');
}
