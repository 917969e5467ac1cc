// Every migration, in order. `npm run migration:create` writes a new file here; add it to this
// list (a test fails when a migration file is missing from it).
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122094531 } from './Migration20261122094531';
import { Migration20261201090000 } from './Migration20261201090000';
import { Migration20261201191500 } from './Migration20261201191500';
import { Migration20261201203000 } from './Migration20261201203000';
import { Migration20261201204000 } from './Migration20261201204000';
import { Migration20261201210000 } from './Migration20261201210000';
import { Migration20261202100000 } from './Migration20261202100000';
import { Migration20261202100100 } from './Migration20261202100100';
import { Migration20261202110000 } from './Migration20261202110000';
import { Migration20261202120000 } from './Migration20261202120000';
import { Migration20261202130000 } from './Migration20261202130000';
import { Migration20261202150000 } from './Migration20261202150000';
import { Migration20261202160000 } from './Migration20261202160000';
import { Migration20261203090000 } from './Migration20261203090000';
import { Migration20261203100000 } from './Migration20261203100000';
import { Migration20261203110000 } from './Migration20261203110000';
import { Migration20261203120000 } from './Migration20261203120000';

export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261122094531', class: Migration20261122094531 },
  { name: 'Migration20261201090000', class: Migration20261201090000 },
  { name: 'Migration20261201191500', class: Migration20261201191500 },
  { name: 'Migration20261201203000', class: Migration20261201203000 },
  { name: 'Migration20261201204000', class: Migration20261201204000 },
  { name: 'Migration20261201210000', class: Migration20261201210000 },
  { name: 'Migration20261202100000', class: Migration20261202100000 },
  { name: 'Migration20261202100100', class: Migration20261202100100 },
  { name: 'Migration20261202110000', class: Migration20261202110000 },
  { name: 'Migration20261202120000', class: Migration20261202120000 },
  { name: 'Migration20261202130000', class: Migration20261202130000 },
  { name: 'Migration20261202150000', class: Migration20261202150000 },
  { name: 'Migration20261202160000', class: Migration20261202160000 },
  { name: 'Migration20261203090000', class: Migration20261203090000 },
  { name: 'Migration20261203100000', class: Migration20261203100000 },
  { name: 'Migration20261203110000', class: Migration20261203110000 },
  { name: 'Migration20261203120000', class: Migration20261203120000 },
];
