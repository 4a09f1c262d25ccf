// Local OAuth2 authorization server (oidc-provider 8.8.1) for the integration tests.
//
// Listens on 127.0.0.1 only, port from $PORT (default 0 = ephemeral).
// stdout carries exactly one line, `READY http://127.0.0.1:<port>`, once listening;
// everything else (oidc-provider notices/warnings, errors) goes to stderr.
// Storage is the built-in in-memory adapter: every restart forgets all tokens.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
// oidc-provider's own DPoP nonce source and its per-provider state, to rotate the nonce secret
// on demand (POST /test-dpop/rotate-nonce) as a deployment rotating it would.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import DPoPNonces from 'oidc-provider/lib/helpers/dpop_nonces.js';
import { jwtVerify } from 'jose';

// oidc-provider prints its NOTICEs with console.info (stdout): keep stdout for READY only.
console.info = console.error;
console.log = console.error;

const HOST = '127.0.0.1';
const port = Number(process.env.PORT ?? 0);

// Client-credentials grant only: no redirects, no response types.
const cc = (client_id, client_secret, token_endpoint_auth_method, scope) => ({
  client_id,
  client_secret,
  // In 8.x this one method also governs the introspection and revocation endpoints
  // (introspection_/revocation_endpoint_auth_method no longer exist).
  token_endpoint_auth_method,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope,
});

// Keys of the clients that authenticate with private_key_jwt, made at every start; the tests
// fetch the private halves from /test-keys/<name>.pem (this server is a test fixture on
// 127.0.0.1 only).
const keys = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};
const publicJwk = (pair, kid) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' });
const keyClient = (client_id, jwk) => ({
  client_id,
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [jwk] },
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'read write',
});

// The JWT bearer grant (RFC 7523 §2.1), through oidc-provider's extension point for grant types:
// assertions issued by ASSERTION_ISSUER and signed with the EC test key, for a token whose
// subject is the assertion's `sub`.
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const RESOURCE = 'https://api.kit.example/';
// A resource server that takes JWT access tokens (RFC 9068), signed with the provider's keys.
const JWT_RESOURCE = 'https://jwt-api.kit.example/';
const ASSERTION_ISSUER = 'kit-assertion-issuer';

// Token exchange (RFC 8693), through the same extension point: an access token of this server
// (subject_token_type access_token) for a new one of the same subject, with a scope no wider.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const clients = [
  {
    ...cc('kit-jwt-bearer', 'jwt-bearer-secret', 'client_secret_basic', 'read write'),
    grant_types: [JWT_BEARER],
  },
  {
    ...cc('kit-token-exchange', 'token-exchange-secret', 'client_secret_basic', 'read write'),
    grant_types: [TOKEN_EXCHANGE],
  },
  keyClient('kit-pkjwt-rsa', publicJwk(keys.rsa, 'rsa-1')),
  keyClient('kit-pkjwt-ec', publicJwk(keys.ec, 'ec-1')),
  // client_secret_jwt: an HS256 assertion made with this secret (at least 32 bytes).
  cc('kit-csjwt', 'csjwt-secret-0123456789-0123456789-abcdef', 'client_secret_jwt', 'read write'),
  cc('kit-basic', 'basic-secret', 'client_secret_basic', 'read write admin'),
  cc('kit-post', 'post-secret', 'client_secret_post', 'read write'),
  // A resource server whose introspection answers are signed JWTs (RFC 9701).
  { ...cc('kit-introspect-jwt', 'introspect-jwt-secret', 'client_secret_basic', 'read'), introspection_signed_response_alg: 'RS256' },
  // RFC 6749 §2.3.1 form-urlencoding check. The server only accepts client ids and
  // secrets made of VSCHAR (%x20-7E, RFC 6749 Appendix A), so the secret can't hold
  // non-ASCII characters: é/ü of the requested secret were replaced by e/u.
  cc('kit special:id', 's3cr:t%+ e/u', 'client_secret_basic', 'read'),
  cc('kit-short', 'short-secret', 'client_secret_basic', 'read write'),
  // DPoP (RFC 9449): clients whose access tokens must be bound to a key; the second must put
  // the server's nonce in its proofs.
  { ...cc('kit-dpop', 'dpop-secret', 'client_secret_basic', 'read write'), dpop_bound_access_tokens: true },
  { ...cc('kit-dpop-nonce', 'dpop-nonce-secret', 'client_secret_basic', 'read write'), dpop_bound_access_tokens: true },
  { ...web('kit-web-dpop', 'web-dpop-secret'), dpop_bound_access_tokens: true },
  // Authorization code + refresh (not allowed the client_credentials grant). Its refresh
  // tokens rotate; kit-web-static's do not.
  web('kit-web', 'web-secret'),
  web('kit-web-static', 'static-secret'),
  // A client whose authorization requests must be pushed (RFC 9126).
  { ...web('kit-web-par', 'par-secret'), require_pushed_authorization_requests: true },
  // A native app (RFC 8252): public, PKCE, a loopback redirect URI whose port may be any
  // (oidc-provider matches 127.0.0.1 redirect URIs of native clients without their port).
  {
    client_id: 'kit-native',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  },
  // A public client of the device flow (RFC 8628).
  {
    client_id: 'kit-device',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
];

function web(client_id, client_secret) {
  return {
    client_id,
    client_secret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/logged-out'],
  };
}

// Every account exists; its claims derive from its id (the login name typed in the dev
// interaction form).
async function findAccount(ctx, id) {
  return {
    accountId: id,
    async claims() {
      return { sub: id, name: `${id} Example`, email: `${id}@example.com`, email_verified: true };
    },
  };
}

// Mutual TLS (RFC 8705), when $KIT_TLS_DIR names a directory of certificates made by the test
// (server.pem and server.key for 127.0.0.1, client-ca.pem, self-signed.pem): a second listener,
// over TLS, asks for client certificates; the discovery document names its endpoints as
// mtls_endpoint_aliases. Two clients authenticate with certificates (tls_client_auth by the
// subject of a certificate of client-ca.pem, self_signed_tls_client_auth by a registered
// certificate), and their access tokens are bound to the certificate.
const tlsDir = process.env.KIT_TLS_DIR;
const tls = tlsDir && {
  key: readFileSync(`${tlsDir}/server.key`),
  cert: readFileSync(`${tlsDir}/server.pem`),
  ca: readFileSync(`${tlsDir}/client-ca.pem`),
  requestCert: true,
  rejectUnauthorized: false,
};
if (tls) {
  const selfSigned = new X509Certificate(readFileSync(`${tlsDir}/self-signed.pem`));
  const mtlsClient = (client_id, method, extra) => ({
    client_id,
    token_endpoint_auth_method: method,
    tls_client_certificate_bound_access_tokens: true,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'read write',
    ...extra,
  });
  clients.push(
    mtlsClient('kit-mtls-pki', 'tls_client_auth', { tls_client_auth_subject_dn: 'CN=kit-mtls-client' }),
    mtlsClient('kit-mtls-self', 'self_signed_tls_client_auth', {
      jwks: { keys: [{ ...selfSigned.publicKey.export({ format: 'jwk' }), x5c: [selfSigned.raw.toString('base64')] }] },
    }),
  );
}
// The client certificate of a request that came over the TLS listener.
const peerCertificate = (ctx) => {
  const peer = ctx.socket?.getPeerCertificate?.(false);
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
};

const server = http.createServer();
const tlsServer = tls ? https.createServer(tls) : undefined;
for (const listener of [server, tlsServer].filter(Boolean)) {
  listener.on('error', (err) => {
    console.error(err);
    process.exit(1);
  });
}

const listening = (listener) => new Promise((resolve) => listener.listen(port, HOST, resolve));
const tlsListening = tlsServer ? new Promise((resolve) => tlsServer.listen(0, HOST, resolve)) : Promise.resolve();

Promise.all([listening(server), tlsListening]).then(() => {
  const issuer = `http://${HOST}:${server.address().port}`;
  const mtlsOrigin = tlsServer && `https://${HOST}:${tlsServer.address().port}`;
  const provider = new Provider(issuer, {
    ...(mtlsOrigin && {
      discovery: {
        mtls_endpoint_aliases: {
          token_endpoint: `${mtlsOrigin}/token`,
          introspection_endpoint: `${mtlsOrigin}/token/introspection`,
          revocation_endpoint: `${mtlsOrigin}/token/revocation`,
          userinfo_endpoint: `${mtlsOrigin}/me`,
        },
      },
    }),
    clients,
    findAccount,
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'read', 'write', 'admin'],
    features: {
      clientCredentials: { enabled: true },
      // Any authenticated client may introspect any token.
      introspection: { enabled: true, allowedPolicy: async () => true },
      // Signed introspection responses (RFC 9701) for clients registered for them.
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true },
      // Login and consent pages driven by the tests with plain HTTP requests and a cookie jar.
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      mTLS: {
        enabled: Boolean(tls),
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        tlsClientAuth: true,
        getCertificate: peerCertificate,
        certificateAuthorized: (ctx) => ctx.socket?.authorized === true,
        certificateSubjectMatches: (ctx, property, expected) =>
          property === 'tls_client_auth_subject_dn' && peerCertificate(ctx)?.subject === expected,
      },
      // DPoP with server nonces; required in the proofs of kit-dpop-nonce's token requests.
      dPoP: {
        enabled: true,
        nonceSecret: randomBytes(32),
        requireNonce: (ctx) => ctx.oidc?.client?.clientId === 'kit-dpop-nonce',
      },
      rpInitiatedLogout: { enabled: true },
      // Resource indicators (RFC 8707): one protected resource, whose tokens carry it as `aud`.
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator === JWT_RESOURCE) {
            return { scope: 'read write', audience: JWT_RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          }
          if (indicator !== RESOURCE) throw new errors.InvalidTarget();
          return { scope: 'read write', audience: RESOURCE, accessTokenFormat: 'opaque' };
        },
      },
    },
    // Every code and device grant of a client allowed refresh tokens gets one (not only with
    // offline_access); kit-web-static's are never rotated, every other client's always are.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: (ctx) => ctx.oidc.client.clientId !== 'kit-web-static',
    pkce: { methods: ['S256'], required: () => true },
    // EdDSA left out of the signed client assertions it accepts (and says so in its metadata),
    // so that a client's check of the algorithm against discovery meets a real server's list.
    enabledJWA: {
      clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256'],
      // Every algorithm a DPoP key of the library can use (oidc-provider's default: ES256, EdDSA).
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'],
    },
    ...(tls && {
      clientAuthMethods: [
        'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none',
        'tls_client_auth', 'self_signed_tls_client_auth',
      ],
    }),
    ttl: {
      // Opaque client-credentials access tokens: 600 s, 4 s for kit-short.
      ClientCredentials: (ctx, token, client) => (client?.clientId === 'kit-short' ? 4 : 600),
    },
  });
  provider.registerGrantType(JWT_BEARER, jwtBearer(issuer), ['assertion', 'scope']);
  provider.registerGrantType(TOKEN_EXCHANGE, tokenExchange, [
    'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
    'requested_token_type', 'audience', 'scope',
  ], ['audience']);
  if (process.env.STRICT_CLIENT_AUTH !== '0') provider.use(strictClientAuth(provider));
  // Server errors (5xx) are emitted as events; show them on stderr.
  provider.on('server_error', (ctx, err) => console.error('server_error:', err));
  // Why a token request was refused (the answer says only "grant request is invalid").
  provider.on('grant.error', (ctx, err) => console.error('grant.error:', err.message, err.error_detail ?? ''));
  const callback = provider.callback();
  tlsServer?.on('request', callback);
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url === '/test-dpop/rotate-nonce') {
      instance(provider).DPoPNonces = new DPoPNonces(randomBytes(32));
      res.writeHead(204);
      return res.end();
    }
    const name = req.url.match(/^\/test-keys\/(rsa|ec)\.pem$/)?.[1];
    if (!name) return callback(req, res);
    res.writeHead(200, { 'content-type': 'application/x-pem-file' });
    return res.end(keys[name].privateKey.export({ format: 'pem', type: 'pkcs8' }));
  });
  process.stdout.write(`READY ${issuer}\n`);
});

// The JWT bearer grant's handler: the assertion checked (signature, iss, aud, exp with 5 s of
// skew, a jti never seen before), then an access token for its subject under a grant of the
// requested scopes, as oidc-provider's own grants make them.
function jwtBearer(issuer) {
  return async (ctx, next) => {
    const { client, params, provider } = ctx.oidc;
    let payload;
    try {
      ({ payload } = await jwtVerify(params.assertion ?? '', keys.ec.publicKey, {
        issuer: ASSERTION_ISSUER,
        audience: [issuer, `${issuer}/token`],
        algorithms: ['ES256'],
        requiredClaims: ['sub', 'exp', 'jti'],
        clockTolerance: 5,
      }));
    } catch (err) {
      throw new errors.InvalidGrant(`assertion refused (${err.code ?? 'malformed'})`);
    }
    const unique = await provider.ReplayDetection.unique(ASSERTION_ISSUER, payload.jti, payload.exp);
    if (!unique) throw new errors.InvalidGrant('assertion replayed (jti seen before)');
    const scope = params.scope ?? 'read';
    const grant = new provider.Grant({ accountId: payload.sub, clientId: client.clientId });
    grant.addOIDCScope(scope);
    const at = new provider.AccessToken({
      accountId: payload.sub,
      client,
      grantId: await grant.save(),
      gty: 'jwt_bearer',
      scope: grant.getOIDCScopeFiltered(new Set(scope.split(' '))),
    });
    ctx.oidc.entity('AccessToken', at);
    ctx.body = {
      access_token: await at.save(),
      expires_in: at.expiration,
      token_type: at.tokenType,
      scope: at.scope || undefined,
    };
    await next();
  };
}

// An access token for the same subject under a new grant; the answer names issued_token_type.
async function issueFor(ctx, accountId, scope) {
  const { client, provider } = ctx.oidc;
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  grant.addOIDCScope(scope);
  const at = new provider.AccessToken({
    accountId,
    client,
    grantId: await grant.save(),
    gty: 'token_exchange',
    scope: grant.getOIDCScopeFiltered(new Set(scope.split(' '))),
  });
  ctx.oidc.entity('AccessToken', at);
  return { at, value: await at.save() };
}

async function tokenExchange(ctx, next) {
  const { params, provider } = ctx.oidc;
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('only access tokens are exchanged here');
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('only access tokens are issued here');
  }
  const subject = await provider.AccessToken.find(params.subject_token ?? '');
  if (!subject || subject.isExpired) throw new errors.InvalidGrant('the subject token is not active');
  const granted = new Set((subject.scope ?? '').split(' ').filter(Boolean));
  const scope = params.scope ?? [...granted].join(' ');
  if (scope.split(' ').some((s) => !granted.has(s))) {
    throw new errors.InvalidScope('an exchange may not widen the scope', scope);
  }
  const { at, value } = await issueFor(ctx, subject.accountId, scope);
  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: at.tokenType,
    expires_in: at.expiration,
    scope: at.scope || undefined,
  };
  await next();
}

// oidc-provider 8.x accepts client_secret_basic and client_secret_post
// interchangeably, whatever the client registered. This middleware (on by default,
// off with STRICT_CLIENT_AUTH=0) answers 401 invalid_client when a client
// authenticates at the token/introspection/revocation endpoints with the other
// method, so the tests prove which method the client really used.
const AUTH_PATHS = new Set(['/token', '/token/introspection', '/token/revocation']);
const decode = (s) => decodeURIComponent(s.replace(/\+/g, '%20')); // as oidc-provider does
function strictClientAuth(provider) {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !AUTH_PATHS.has(ctx.path)
      || !ctx.is('application/x-www-form-urlencoded')) return next();
    // Read the body ourselves; oidc-provider then reuses ctx.req.body (it warns once on stderr).
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    ctx.req.body = Buffer.concat(chunks).toString('utf8');
    const body = new URLSearchParams(ctx.req.body);
    let clientId = body.get('client_id');
    let used = body.has('client_secret') ? 'client_secret_post' : undefined;
    const [scheme, b64] = (ctx.get('authorization') || ' ').split(' ');
    if (scheme.toLowerCase() === 'basic') {
      const basic = Buffer.from(b64 ?? '', 'base64').toString('utf8');
      try { clientId = decode(basic.slice(0, basic.indexOf(':'))); } catch { clientId = undefined; }
      used = used ? undefined : 'client_secret_basic'; // both used: oidc-provider rejects it
    }
    // Anything malformed or unknown is left for oidc-provider to reject as usual.
    const client = used && clientId
      ? await provider.Client.find(clientId).catch(() => undefined) : undefined;
    if (client && client.clientAuthMethod !== used) {
      ctx.status = 401;
      ctx.set('cache-control', 'no-store');
      if (used === 'client_secret_basic') {
        ctx.set('www-authenticate', `Basic realm="${provider.issuer}", error="invalid_client"`);
      }
      ctx.body = {
        error: 'invalid_client',
        error_description: `client registered ${client.clientAuthMethod} but used ${used}`,
      };
      return undefined;
    }
    return next();
  };
}

// Clean exit on SIGTERM/SIGINT.
function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // drop keep-alive sockets so close() completes
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
