// The yardstick for the handler's token validation: what a Teams sample's backend does, in the
// form it is usually run, so both are measured against the same emulated Entra in one run
// (bench/compare_node.py).
//
//   AUTHORITY=http://127.0.0.1:47470 CLIENT_ID=<guid> PORT=8090 node server.mjs
//
// Two node:cluster workers (one per core of the benchmark machine) share the port. Each checks
// what the handler checks that these libraries can express: RS256 with a key from the v2.0 key
// set found by `kid` (jwks-rsa, cached, rate-limited on unknown kids), the audience, the
// issuer of the token's own tenant, its lifetime with five minutes of skew, and the
// `access_as_user` scope. It answers as the handler's POST /api/token/validate does.

import cluster from 'node:cluster';

const WORKERS = Number(process.env.WORKERS ?? 2);

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i += 1) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (code !== 0) console.error(`worker ${worker.process.pid} ended with ${code}`);
  });
} else {
  const { default: express } = await import('express');
  const { default: jwt } = await import('jsonwebtoken');
  const { default: jwksRsa } = await import('jwks-rsa');

  const authority = process.env.AUTHORITY;
  const clientId = process.env.CLIENT_ID;
  const keys = jwksRsa({
    jwksUri: `${authority}/common/discovery/v2.0/keys`,
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 2,
  });
  const signingKey = (header, done) => {
    keys.getSigningKey(header.kid).then((key) => done(null, key.getPublicKey()), done);
  };

  const verify = (token) =>
    new Promise((resolve, reject) => {
      // The issuer depends on the tenant, which only the claims tell: decode first, as the
      // samples do, then verify against that tenant's issuer.
      const unverified = jwt.decode(token);
      const issuer = `${authority}/${unverified?.tid}/v2.0`;
      jwt.verify(
        token,
        signingKey,
        { algorithms: ['RS256'], audience: clientId, issuer, clockTolerance: 300 },
        (error, claims) => (error ? reject(error) : resolve(claims)),
      );
    });

  const app = express();
  app.disable('x-powered-by');
  app.get('/api/health', (_request, response) => response.json({ status: 'ok' }));
  app.post('/api/token/validate', async (request, response) => {
    const header = request.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    try {
      const claims = await verify(token);
      if (!String(claims.scp ?? '').split(' ').includes('access_as_user')) {
        response.status(403).json({ code: 'insufficient_scope' });
        return;
      }
      response.set('cache-control', 'no-store').json({
        tenantId: claims.tid,
        objectId: claims.oid,
        userPrincipalName: claims.preferred_username ?? null,
        name: claims.name ?? null,
        audience: claims.aud,
        scopes: String(claims.scp).split(' '),
        tokenVersion: claims.ver,
        expiresAt: new Date(claims.exp * 1000).toISOString(),
      });
    } catch {
      response.status(401).json({ code: 'invalid_token' });
    }
  });
  app.listen(Number(process.env.PORT ?? 8090), '127.0.0.1');
}
