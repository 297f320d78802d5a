/** The SQLite store (kb/store/store.ts) against the DocumentStore contract (tests/support/store-contract.ts). */
import { Store } from '../../kb/store/store.ts';
import { describeStoreContract } from '../support/store-contract.ts';

describeStoreContract('SQLite (kb/store/store.ts)', (dir, options) => Store.open(dir, options));
