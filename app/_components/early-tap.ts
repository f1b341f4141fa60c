/**
 * A tap on the pay button before the page hydrates must not be lost (a WeChat buyer on a slow phone
 * taps as soon as the button is painted). The pay panel renders EARLY_TAP_SCRIPT inline, so it runs
 * while the HTML is parsed, long before the client bundle arrives: it catches the pay form's submit,
 * holds it, and the panel replays it right after hydration (claimEarlyTap). Without JavaScript none
 * of this runs and the form posts to the server action, which renders the result on the server.
 *
 * If the bundle never arrives (a broken network) the held tap is posted as a plain form after
 * FALLBACK_MS, so the buyer still gets the server-rendered result.
 */

interface EarlyTapState {
  hydrated: boolean;
  /** The quantity in the box when the held tap happened; null when none is held. */
  held: { quantity: number } | null;
}

declare global {
  interface Window {
    __wxPayTap?: EarlyTapState;
  }
}

/** How long a held tap waits for hydration before it is posted as a plain form. */
export const FALLBACK_MS = 15_000;

/**
 * The inline script. Plain ES5 in a string (it runs before, and without, any bundle); it registers one
 * capturing submit listener per page, whatever the number of panels.
 */
export const EARLY_TAP_SCRIPT = `(function(){var w=window;if(w.__wxPayTap)return;var s=w.__wxPayTap={hydrated:false,held:null};
document.addEventListener('submit',function(e){var f=e.target;if(s.hydrated||!f||!f.getAttribute||f.getAttribute('data-testid')!=='pay-form')return;
e.preventDefault();if(s.held)return;var q=f.elements.namedItem('quantity');s.held={quantity:q?Number(q.value)||1:1};f.setAttribute('data-held','1');
setTimeout(function(){if(!s.hydrated&&s.held){s.held=null;HTMLFormElement.prototype.submit.call(f);}},${FALLBACK_MS});},true);})();`;

/** Called once the panel has hydrated: from now on its own submit handler takes taps. */
export function markHydrated(): void {
  const s = (window.__wxPayTap ??= { hydrated: false, held: null });
  s.hydrated = true;
}

/** The tap held before hydration, if any, handed over once (the caller pays with it). */
export function claimEarlyTap(): { quantity: number } | null {
  const s = window.__wxPayTap;
  if (!s?.held) return null;
  const held = s.held;
  s.held = null;
  return held;
}
