import { createServer, type RequestListener } from 'node:http';
import { createApp } from './app.ts';
import { ConfigError, type LoadConfigOptions, loadConfig } from './config/load.ts';
import { gracefulShutdown } from './http/graceful-shutdown.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { presignConfinementWarnings } from './presign/scope-confinement.ts';
import { createStore } from './store/create-store.ts';

/** The configuration, or exit 78 (EX_CONFIG) listing every problem. */
function loadConfigOrExit(options: LoadConfigOptions = {}): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keywarden: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/**
 * Start-up: validate config, connect the store, listen, then build the app for the port bound.
 * Shutdown on SIGTERM/SIGINT: drain the server without resetting a request
 * (src/http/graceful-shutdown.ts), close the store, exit 0.
 */
async function main(): Promise<void> {
  let config = loadConfigOrExit();

  const logger = createLogger({ level: config.log.level });
  for (const warning of presignConfinementWarnings(config)) logger.warn(warning);
  const store = await createStore(config.store, logger).catch((error: unknown) => {
    logger.fatal({ err: { message: (error as Error).message } }, 'cannot reach the state store');
    logger.flush();
    process.exit(1);
  });
  const lifecycle = { draining: false };

  // Listen before the app is built, so that what derives from the port (the default publicUrl,
  // the development IdP's issuer, the local AWS endpoint) is the port actually bound, PORT=0 too.
  const starting: RequestListener = (_req, res) => {
    res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('starting\n');
  };
  const server = createServer(starting);
  server.requestTimeout = config.server.requestTimeoutMs;
  server.keepAliveTimeout = config.server.keepAliveTimeoutMs;
  const shutdown = gracefulShutdown(
    server,
    lifecycle,
    {
      drainDelayMs: config.server.drainDelayMs,
      graceMs: config.server.shutdownGraceMs,
      keepAliveTimeoutMs: config.server.keepAliveTimeoutMs,
    },
    logger,
  );

  await new Promise<void>((resolve) => server.listen(config.server.port, config.server.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  if (port !== config.server.port) config = loadConfigOrExit({ listenPort: port });
  const app = await createApp({ config, store, logger, metrics: createMetrics(), lifecycle });
  server.off('request', starting);
  server.on('request', app);
  logger.info(
    { port, env: config.env, store: store.kind },
    `keywarden listening on ${config.server.host}:${port}`,
  );
  if (config.auth.devIdp.enabled) {
    logger.info(
      `development sign-in: open ${config.server.publicUrl}/auth/login/${config.auth.devIdp.provider}`,
    );
  }
  if (config.localAws.enabled) {
    logger.info(
      `local AWS: /credentials hands out LOCAL credentials that work only against keywarden's local AWS, not AWS; use them with the AWS SDK or CLI by setting AWS_ENDPOINT_URL=${config.aws.endpoint}`,
    );
  }

  const stop = async (signal: string) => {
    await shutdown.drain(signal);
    await store.close().catch(() => undefined);
    logger.info('stopped');
    logger.flush(() => process.exit(0));
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

await main();
