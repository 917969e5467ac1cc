import fs from 'node:fs';
import path from 'node:path';
import { createAppOrm } from '../src/database';
import { migrationsList } from '../migrations';
import { workerDatabaseUrl } from './helpers/app';

describe('migrations', () => {
  it('agree with the entities: after migrating, the schema diff is empty', async () => {
    const orm = await createAppOrm({ databaseUrl: workerDatabaseUrl() });
    try {
      const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false });
      expect(diff.trim()).toBe('');
    } finally {
      await orm.close(true);
    }
  });

  it('lists every migration file in migrations/index.ts', () => {
    const files = fs
      .readdirSync(path.join(__dirname, '..', 'migrations'))
      .filter((file) => /^Migration\d+.*\.ts$/.test(file))
      .map((file) => file.replace(/\.ts$/, ''))
      .sort();
    expect(migrationsList.map((m) => m.name)).toEqual(files);
  });

  it('creates the public channel', async () => {
    const orm = await createAppOrm({ databaseUrl: workerDatabaseUrl() });
    try {
      const rows = await orm.em.getConnection().execute(`select name, kind from channels where name = 'public'`);
      expect(rows).toEqual([{ name: 'public', kind: 'PUBLIC' }]);
    } finally {
      await orm.close(true);
    }
  });
});
