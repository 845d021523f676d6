import { createReadStream, existsSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { extname, join, normalize, sep } from 'node:path';
import type { Logger } from '@backbone/bootstrap';

// The console's HTTP edge, a Nest service started by startService like every other: the built
// web app as static files, and a reverse proxy to the services' HTTP APIs so the browser talks to
// one origin under a strict CSP. The proxy adds nothing and decides nothing: the signed-in user's
// bearer token goes through to the service, which authenticates and authorises it. Only the
// routes the console uses are forwarded. Health, readiness and metrics come from startService.

/** Every response carries these; script-src 'self' forbids inline and foreign scripts. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    // Mantine sets CSS variables and positions popovers with style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export interface ConsoleTargets {
  publisher: string;
  gate: string;
  audit: string;
  /** agency code → that agency's subscriber base URL */
  subscribers: ReadonlyMap<string, string>;
}

/** What the console's request handling needs (the ConsoleModule's options). */
export interface ConsoleOptions {
  targets: ConsoleTargets;
  webDir: string;
  logger: Logger;
}

/** Maps a console API path to the service URL it is forwarded to, or null (404). Exported for tests. */
export function routeApi(path: string, targets: ConsoleTargets): string | null {
  let m: RegExpExecArray | null;
  if ((m = /^\/api\/publisher(\/alerts(?:\/[^?]*)?)$/.exec(path))) return targets.publisher + m[1];
  if (path === '/api/gate/preview') return `${targets.gate}/preview`;
  if ((m = /^\/api\/audit(\/compliance\/[^?]*|\/office\/alerts\/[^?]*)$/.exec(path))) return targets.audit + m[1];
  if ((m = /^\/api\/agencies\/([A-Z0-9][A-Z0-9_-]{1,39})(\/(?:inbox(?:\/[^?]*)?|stream))$/.exec(path))) {
    const base = targets.subscribers.get(m[1]!);
    return base === undefined ? null : base + m[2];
  }
  return null;
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function proxy(req: IncomingMessage, res: ServerResponse, target: URL, logger: Logger): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'cookie') headers[k] = v;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(target, { method: req.method, headers }, (up) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    res.writeHead(up.statusCode ?? 502, { ...out, ...SECURITY_HEADERS });
    res.flushHeaders();
    up.pipe(res);
  });
  upstream.on('error', (err) => {
    logger.warn({ path: target.pathname, err: err.message }, 'console: upstream unavailable');
    if (!res.headersSent) {
      sendJson(
        res,
        502,
        { type: 'about:blank', title: 'Service unavailable', status: 502, reason: 'upstream-unavailable', detail: target.origin },
        'application/problem+json',
      );
    } else res.destroy();
  });
  // A closed browser tab (an SSE feed left) ends the upstream request too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

function serveStatic(req: IncomingMessage, res: ServerResponse, webDir: string, path: string): void {
  const root = normalize(webDir + sep);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return sendJson(res, 400, { title: 'Bad request', status: 400, reason: 'malformed-path' }, 'application/problem+json');
  }
  let file = normalize(join(root, decoded));
  if (!file.startsWith(root)) return sendJson(res, 404, { title: 'Not found', status: 404 }, 'application/problem+json');
  // Client-side routes all answer with the app's one page.
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
  if (!existsSync(file)) {
    return sendJson(res, 503, { title: 'The console is not built', status: 503, detail: 'run npm run build' }, 'application/problem+json');
  }
  const hashed = path.startsWith('/assets/');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}

/** Answers one console request on the raw Node request/response: the API proxy or the web app. */
export function handleConsoleRequest(req: IncomingMessage, res: ServerResponse, opts: ConsoleOptions): void {
  const { targets, logger } = opts;
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  // Paths only: query strings may carry filters, never tokens, but are not needed to debug.
  logger.debug({ method: req.method, path: url.pathname }, 'console request');
  if (url.pathname === '/api/agencies') return sendJson(res, 200, { agencies: [...targets.subscribers.keys()].sort() });
  if (url.pathname.startsWith('/api/')) {
    const target = routeApi(url.pathname, targets);
    if (target === null)
      return sendJson(res, 404, { title: 'Not found', status: 404, reason: 'unknown-route' }, 'application/problem+json');
    return proxy(req, res, new URL(target + url.search), logger);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return sendJson(res, 405, { title: 'Method not allowed', status: 405 }, 'application/problem+json');
  return serveStatic(req, res, opts.webDir, url.pathname);
}
