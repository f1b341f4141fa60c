/** What every merchant server action answers (typed, never thrown at the UI). */
export type ActionResult = { ok: true; message: string } | { ok: false; code: string; message: string };

/** The login form's state: null before the first try; success redirects, so only failures come back. */
export type LoginState = { ok: false; code: string; message: string } | null;
