// A local OpenID Connect provider shaped like Microsoft Entra ID v2, for the portal's sign-in tests.
//
//   node entra-provider.mjs --cert CERT.pem --key KEY.pem --tenant TID --users USERS.json
//
// Listens on https://localhost:<free port>/ and prints `listening <port>`. Then it reads one JSON line on
// standard input, {"clientId","clientSecret","redirectUris":[],"postLogoutRedirectUris":[]}, registers that
// client, and prints `ready <issuer>`. (The portal's port is known only after it starts, and the portal needs
// this provider's address to start: hence the two steps.)
//
// Entra's shape: issuer https://localhost:PORT/{tid}/v2.0; id_token claims tid, oid, name,
// preferred_username, roles[], ver "2.0". Users come from USERS.json: [{username, password, oid, name, roles}].
// See shared/recipes/ENTRA.md for why each setting is here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';
import express from 'express';
import Provider from 'oidc-provider';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
for (const name of ['cert', 'key', 'tenant', 'users']) {
  if (!args[name]) { console.error(`missing --${name}`); process.exit(2); }
}
const users = JSON.parse(fs.readFileSync(args.users, 'utf8'));
const mount = `/${args.tenant}/v2.0`;
const app = express();
let provider;

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>
<body style="font-family:sans-serif;max-width:420px;margin:40px auto">${body}</body></html>`;
const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginForm = (uid, error, username) => page('Sign in to your account', `
<h1>Sign in</h1>
${error ? `<p id="error" role="alert" style="color:#a4262c">${escape(error)}</p>` : ''}
<form method="post" action="${mount}/interaction/${uid}/login">
  <label>User name <input id="username" name="username" value="${escape(username)}" autofocus></label><br><br>
  <label>Password <input id="password" name="password" type="password"></label><br><br>
  <button id="signin" type="submit">Sign in</button>
</form>`);

app.get(`${mount}/interaction/:uid`, async (req, res, next) => {
  try {
    const { uid } = await provider.interactionDetails(req, res);
    res.type('html').send(loginForm(uid));
  } catch (e) { next(e); }
});

app.post(`${mount}/interaction/:uid/login`, express.urlencoded({ extended: false }), async (req, res, next) => {
  try {
    const { uid } = await provider.interactionDetails(req, res);
    const user = users.find((u) => u.username === req.body.username);
    const given = Buffer.from(String(req.body.password ?? ''));
    const expected = Buffer.from(user?.password ?? '');
    if (!user || given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      res.status(200).type('html').send(loginForm(uid, 'Your account or password is incorrect.', req.body.username));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.oid } }, { mergeWithLastSubmission: false });
  } catch (e) { next(e); }
});

app.use(mount, (req, res, next) => (provider ? provider.callback()(req, res, next) : res.status(503).send('not ready')));

const server = https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) }, app);
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));

const input = readline.createInterface({ input: process.stdin });
input.once('line', async (line) => {
  const client = JSON.parse(line);
  const issuer = `https://localhost:${server.address().port}${mount}`;
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  // A fresh key id at every start: a reused id after a restart gave IDX10511.
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
  provider = new Provider(issuer, {
    clients: [{
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    conformIdTokenClaims: false,
    claims: { openid: ['sub', 'oid', 'tid', 'roles', 'ver'], profile: ['name', 'preferred_username'] },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (ctx, interaction) => `${mount}/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const user = users.find((u) => u.oid === id);
      if (!user) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id, oid: id, tid: args.tenant, ver: '2.0',
            name: user.name, preferred_username: user.username, roles: user.roles ?? [],
          };
        },
      };
    },
    // First-party client: no consent screen, as for an Entra app the tenant admin consented to.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  console.log(`ready ${issuer}`);
});
