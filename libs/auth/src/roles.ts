import { SetMetadata } from '@nestjs/common';

/**
 * Every kind of caller the services know. A route admits some of them; nothing else gets in.
 * `operator` runs a service (e.g. an agency's admin managing its desks, or reading dependency errors on readiness).
 * `service` is another backbone service calling with its own credential (the publisher's office token introspection).
 */
export const ROLES = ['office', 'desk', 'hold-reviewer', 'compliance-reader', 'compliance-replayer', 'operator', 'service'] as const;
export type Role = (typeof ROLES)[number];

export const ROLES_METADATA = 'backbone:roles';
export const PUBLIC_METADATA = 'backbone:public';

/** The roles a controller (or one of its routes) admits; a route's own list replaces its controller's. */
export const Roles = (...roles: [Role, ...Role[]]): ClassDecorator & MethodDecorator => SetMetadata(ROLES_METADATA, roles);

/** Open to anyone: only health, metrics and the OpenAPI document are. A bearer token, if sent, is still read. */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(PUBLIC_METADATA, true);
