// The browser's only door to the backbone: the console server's /api routes, which forward to
// the services. The token lives in sessionStorage and goes only in the Authorization header,
// never in a URL; nothing here logs it.

export type Role = 'office' | 'desk' | 'compliance';

export interface Session {
  role: Role;
  token: string;
  /** The desk's agency (its subscriber); offices learn theirs from the API. */
  agency?: string;
}

const KEY = 'backbone.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export interface FieldProblem {
  field: string;
  /** Stable machine code; the console translates by it (i18n fieldError). */
  code: string;
  /** The API's English text, shown when the catalogue has no entry for the code. */
  message: string;
  params?: Record<string, string | number>;
}

/** An HTTP answer that was not 2xx, with its problem+json when the service sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; reason?: string; errors?: FieldProblem[] },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

export async function api<T>(
  session: Session,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${session.token}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : {};
  if (!res.ok) throw new ApiError(res.status, json as ApiError['problem']);
  return json as T;
}
