/** The replication part (dynamic resource replication, load balancing at login): docs/replication.md. */
export { Replication, type ReplicationOptions, type ReplicationSettings } from './replication';
export { replicationCommands } from './commands';
export { readSpares, NO_SPARES, type Spares } from './spares';
