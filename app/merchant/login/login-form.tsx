'use client';

import { useActionState } from 'react';
import type { LoginState } from '../_components/types';
import { loginAction } from './actions';

export function LoginForm({ next, labels }: { next: string; labels: { password: string; login: string } }) {
  const [state, action, pending] = useActionState<LoginState, FormData>(loginAction, null);
  return (
    <form action={action} className="card" style={{ display: 'grid', gap: 12 }}>
      <input type="hidden" name="next" value={next} />
      <label style={{ display: 'grid', gap: 6 }}>
        {labels.password}
        <input type="password" name="password" autoComplete="current-password" required autoFocus data-testid="merchant-password" />
      </label>
      <button type="submit" className="btn" disabled={pending} data-testid="merchant-login">{labels.login}</button>
      {state && <p className="error" role="alert" data-testid="login-error" data-code={state.code}>{state.message}</p>}
    </form>
  );
}
