/** Injection tokens of the observability module (their own file: the controller and the module both need them). */
export const LOGGER = Symbol('LOGGER');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
