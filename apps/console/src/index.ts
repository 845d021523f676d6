export { routeApi, handleConsoleRequest, SECURITY_HEADERS, type ConsoleOptions, type ConsoleTargets } from './console.server.js';
export { ConsoleModule, NobodyVerifier, startConsoleServer, type ConsoleServerOptions, type RunningConsole } from './console.module.js';
export { parseSubscribers } from './console.config.js';
