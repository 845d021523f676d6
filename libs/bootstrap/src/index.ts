export { ConfigError, loadConfig, describeConfig, settings, type ConfigOf, type ConfigSchema, type Setting } from './config.js';
export { createLogger, PinoNestLogger, type Logger } from './logger.js';
export { HealthRegistry, type ReadinessCheck, type ReadinessReport } from './health.registry.js';
export { MetricsService } from './metrics.service.js';
export { ObservabilityModule, LOGGER, SERVICE_NAME } from './observability.module.js';
export { ProblemDetailsFilter, ProblemException, problem, type ProblemDetails, type FieldProblem } from './problem-details.filter.js';
export { startService, runMain, type ServiceOptions, type RunningService } from './service.bootstrap.js';
export { SERVICE_SETTINGS, loadServiceSettings, type ServiceSettings } from './service.config.js';
