// The crash recorder the hardening suites rely on really sees this process's unhandled
// rejections and uncaught exceptions: jest runs tests with a copy of `process` whose events
// never fire, so a recorder on it would stay empty whatever happened.
import vm from 'node:vm';
import { installCrashRecorder } from './helpers/security';

describe('crash recorder', () => {
  it('records an unhandled rejection and an uncaught exception', async () => {
    // Jest's own listeners would fail this test for the deliberate errors: set them aside meanwhile.
    const host = vm.runInThisContext('process') as NodeJS.Process;
    const saved = { unhandledRejection: host.listeners('unhandledRejection'), uncaughtException: host.listeners('uncaughtException') };
    host.removeAllListeners('unhandledRejection');
    host.removeAllListeners('uncaughtException');
    const recorder = installCrashRecorder();
    try {
      void Promise.reject(new Error('deliberately unhandled'));
      setTimeout(() => {
        throw new Error('deliberately uncaught');
      }, 0);
      const deadline = Date.now() + 2000;
      while ((recorder.rejections.length === 0 || recorder.exceptions.length === 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      recorder.uninstall();
      for (const listener of saved.unhandledRejection) host.on('unhandledRejection', listener as (...args: any[]) => void);
      for (const listener of saved.uncaughtException) host.on('uncaughtException', listener as (...args: any[]) => void);
    }
    expect((recorder.rejections as Error[]).map((e) => e.message)).toEqual(['deliberately unhandled']);
    expect((recorder.exceptions as Error[]).map((e) => e.message)).toEqual(['deliberately uncaught']);
    expect(() => recorder.assertClean()).toThrow(/deliberately unhandled/);
  });
});
