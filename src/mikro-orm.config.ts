// Configuration for the mikro-orm CLI (npm run migration:create). Runs compiled, from dist/.
import { loadConfig } from './config';
import { appOrmOptions } from './database';

const config = loadConfig();
if (!config.databaseUrl) {
  throw new Error('Set DATABASE_URL to create migrations (the CLI compares entities with a real database).');
}
export default appOrmOptions({ databaseUrl: config.databaseUrl });
