'use strict';
// The generator side of lib/procs.js: answers the runner's commands over IPC, and exits by
// itself when the runner goes away or a safety timer runs out.

/**
 * handlers: { [cmd]: async (args) => result }. The built-in `exit` command ends the process.
 * maxLifetimeMs bounds the process's life even if the runner hangs.
 */
function serve(handlers, maxLifetimeMs = 45 * 60_000) {
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  setTimeout(() => {
    console.error(`[bench] generator ${process.pid} reached its lifetime limit; exiting`);
    process.exit(3);
  }, maxLifetimeMs).unref();
  process.on('message', async ({ id, cmd, args }) => {
    if (cmd === 'exit') {
      process.send({ id, ok: true, result: null }, () => process.exit(0));
      return;
    }
    try {
      const handler = handlers[cmd];
      if (!handler) throw new Error(`unknown command ${cmd}`);
      const result = await handler(args || {});
      process.send({ id, ok: true, result: result === undefined ? null : result });
    } catch (error) {
      process.send({ id, ok: false, error: error && error.stack ? error.stack : String(error) });
    }
  });
}

module.exports = { serve };
