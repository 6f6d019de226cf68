export { run, USAGE } from './cli.ts';
export type { Io } from './cli.ts';
export { checkObjects, InputError } from './report.ts';
export type { CheckInput, CheckReport } from './report.ts';
export { answerReview, startInventoryServer } from './inventory-server.ts';
export type { InventoryServer, InventoryServerOptions } from './inventory-server.ts';
export { columns } from './columns.ts';
