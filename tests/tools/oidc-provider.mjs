#!/usr/bin/env node
// A certified OpenID provider (npm `oidc-provider`, panva) in front of the dev server, for
// tests/suite/auth_browser.rs: the judge of `cec config add oauth` that nobody here wrote.
//
// usage: node tests/tools/oidc-provider.mjs CONFIG.json
//   CONFIG: {"upstream": "http://127.0.0.1:PORT",            the dev server (REST + S3)
//            "redirect_uris": ["http://localhost:P/servers/callback"],
//            "access_token_ttl": 600,                        seconds
//            "users": {"alice": {"password": "…", "token": "<dev server PAT>"}}}
//   env CEC_NODE_MODULES: where oidc-provider is installed (default .tools/browser/node_modules)
// Prints "listening on http://127.0.0.1:PORT" on stdout, then logs one line per request on
// stderr. Listens on 127.0.0.1 only.
//
// Why a front and not a change to the dev server: cec talks to one base URL: it sends the
// OAuth requests to {base}/oidc/oauth2/{auth,token} and, once it holds an access token,
// REST calls to {base}/a/... (FrontState tells it who logged in). So this process is that
// base URL. /oidc/* is the provider, mounted as Cells mounts Hydra, configured as Cells
// configures its client (docs/protocol.md §5.1): `cells-client`, public (no secret), grants
// authorization_code + refresh_token, the loopback redirect URI, PKCE S256 (required for a
// public client), scopes "openid email profile pydio offline", refresh tokens that rotate
// and revoke the whole grant when a spent one is presented again. /interaction/* is the
// provider's login and consent pages. Everything else is passed to the dev server: a
// bearer token the provider issued (looked up in the provider, so an expired or revoked one
// is refused) is swapped for the dev server PAT of the same user, anything else for a
// token the dev server refuses. Real Cells does the same split: its gateway asks Hydra
// about a token and the services behind it trust the gateway. The dev server is unchanged.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.CEC_NODE_MODULES || path.join(here, '../../.tools/browser/node_modules');
const { default: Provider } = await import(
  pathToFileURL(path.join(modules, 'oidc-provider/lib/index.js')).href
);

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const users = cfg.users;
const upstream = new URL(cfg.upstream);
const PREFIX = '/oidc';

function log(...a) {
  process.stderr.write(`[oidc] ${a.join(' ')}\n`);
}

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' };
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const server = http.createServer();
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(`${base}${PREFIX}`, {
  clients: [{
    client_id: 'cells-client',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: cfg.redirect_uris,
  }],
  scopes: ['openid', 'email', 'profile', 'pydio', 'offline'],
  claims: { openid: ['sub'], email: ['email'], profile: ['name', 'preferred_username'] },
  async findAccount(_ctx, id) {
    if (!users[id]) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com`, name: id, preferred_username: id }) };
  },
  // Hydra's scope for refresh tokens is "offline" (cells-client asks for it, not
  // "offline_access"); the refresh token outlives the browser session.
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline'),
  expiresWithSession: async () => false,
  rotateRefreshToken: true,
  pkce: { methods: ['S256'], required: () => true },
  ttl: {
    AccessToken: cfg.access_token_ttl,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 86400,
    Grant: 86400,
    Interaction: 600,
    Session: 600,
  },
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  routes: {
    authorization: '/oauth2/auth',
    token: '/oauth2/token',
    revocation: '/oauth2/revoke',
    jwks: '/.well-known/jwks.json',
    userinfo: '/userinfo',
    end_session: '/oauth2/sessions/logout',
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  jwks: { keys: [signingKey()] },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><body><h1>Error</h1><pre id="error">${escapeHtml(JSON.stringify(out))}</pre></body></html>`;
  },
});
provider.on('server_error', (_ctx, err) => log('server_error', err.stack || err));
provider.on('grant.error', (_ctx, err) => log('grant.error', err.message, err.error_description || ''));
provider.on('authorization.error', (_ctx, err) => log('authorization.error', err.message, err.error_description || ''));
provider.on('grant.revoked', (_ctx, grantId) => log('grant.revoked', grantId));
const oidc = provider.callback();

function readBody(req) {
  return new Promise((ok, fail) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > 65536) { fail(new Error('body too large')); req.destroy(); } else chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

function loginForm(res, uid, status, message) {
  page(res, status, 'Sign in', `${message ? `<p id="message">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Login <input name="login" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`);
}

// The login and consent pages of the provider (what a Cells deployment renders itself).
async function interaction(req, res) {
  const m = req.url.match(/^\/interaction\/([\w-]+)(\/login|\/confirm)?$/);
  if (!m) return page(res, 404, 'Not found', '');
  const details = await provider.interactionDetails(req, res);
  const [, uid, action] = m;
  if (uid !== details.uid) return page(res, 400, 'Wrong interaction', '');
  const { prompt, params } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') return loginForm(res, uid, 200, '');
    return page(res, 200, 'Authorize', `<p id="scopes">${escapeHtml(params.client_id)} asks for: ${escapeHtml(params.scope)}</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/confirm"><button type="submit">Authorize</button></form>`);
  }
  if (req.method !== 'POST') return page(res, 405, 'Method not allowed', '');
  if (action === '/login' && prompt.name === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const login = form.get('login') || '';
    const ok = users[login] && users[login].password === form.get('password');
    log('login', login, ok ? 'ok' : 'refused');
    if (!ok) return loginForm(res, uid, 401, 'Wrong login or password.');
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (action === '/confirm' && prompt.name === 'consent') {
    await readBody(req);
    const { accountId } = details.session;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    log('consent', accountId, params.scope);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return page(res, 400, 'Unexpected step', `<p>${escapeHtml(prompt.name)}</p>`);
}

// The dev server's PAT for the user of a provider-issued access token, else a refused token.
async function upstreamAuthorization(value) {
  const m = /^Bearer (.+)$/.exec(value || '');
  if (!m) return value;
  const at = await provider.AccessToken.find(m[1]);
  if (!at || at.isExpired || !users[at.accountId]) {
    log('bearer refused');
    return 'Bearer refused-by-the-oidc-front';
  }
  return `Bearer ${users[at.accountId].token}`;
}

async function proxy(req, res) {
  const headers = { ...req.headers };
  if (headers.authorization) headers.authorization = await upstreamAuthorization(headers.authorization);
  const up = http.request({
    host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers,
  }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    log('upstream error', e.message);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}

server.on('request', (req, res) => {
  log(req.method, req.url.split('?')[0]);
  const done = (e) => {
    log('error', e.stack || e);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  };
  if (req.url === PREFIX || req.url.startsWith(`${PREFIX}/`)) {
    // Mounted under /oidc: the provider finds its mount path from originalUrl.
    req.originalUrl = req.url;
    req.url = req.url.slice(PREFIX.length) || '/';
    return oidc(req, res);
  }
  if (req.url.startsWith('/interaction/')) return interaction(req, res).catch(done);
  return proxy(req, res).catch(done);
});

process.stdout.write(`listening on ${base}\n`);
