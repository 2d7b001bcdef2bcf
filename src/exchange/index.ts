export { Exchange, type ExchangeOptions } from "./server.js";
export { TokensFileError, type Tokens } from "./auth.js";
export type { MailboxLimits } from "./mailboxes.js";
