export { HostsTable, parseHostsTable, readHostsTable, type HostEntry, type HostRole } from './hosts';
export { loadConfig, checkConfig, type Config } from './load';
export { START_OPTIONS, DEFAULT_PORT } from './options';
export { loadOrCreateKeys, publicKeyBase64, keysDir } from './keys';
export { listenError, type PortSetting } from './listen-errors';
export { hostsOf, installHostsTable, selfIn } from './network';
