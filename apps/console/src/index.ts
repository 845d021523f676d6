export { startConsoleServer, routeApi, SECURITY_HEADERS, type RunningConsole, type ConsoleTargets } from './console.server.js';
export { parseSubscribers } from './console.config.js';
