import { Module, type DynamicModule } from '@nestjs/common';
import { CREDENTIAL_VERIFIER } from '@backbone/auth';
import {
  DEFAULT_CONSUMER_SAFETY,
  KafkaModule,
  RefusalAuditModule,
  type ConsumerSafetySettings,
  type KafkaConfig,
  type RefusalAuditSettings,
} from '@backbone/kafka';
import { DecisionsController } from './decisions.controller.js';
import { PreviewController } from './preview/preview.controller.js';
import { HoldsController } from './holds.controller.js';
import type { GatePolicy } from './gate-policy.port.js';
import type { CommitHook, GateMember } from './policy-gate.consumer.js';
import type { GateSettings } from './policy-gate.config.js';
import {
  GATE_COMMIT_HOOK,
  GATE_CONSUMER_SAFETY,
  GATE_MEMBER,
  GATE_ON_FATAL,
  GATE_POLICY,
  GATE_SETTINGS_TOKEN,
  PolicyGateRuntime,
} from './policy-gate.runtime.js';
import { GATE_OFFICE_INTROSPECTION, GateCredentialVerifier } from './gate-credential.verifier.js';
import type { OfficeIntrospectionClient } from '@backbone/office-auth';

export interface PolicyGateDeps {
  kafka: KafkaConfig;
  /** Validated gate settings, DATABASE_URL resolved. */
  settings: GateSettings & { DATABASE_URL: string };
  /** Loaded (and validated) at start-up by main.ts, so a bad policy stops the service early. */
  policy: GatePolicy;
  /**
   * The consumer stopped for good (fenced by a newer instance, or KafkaJS gave up): main.ts
   * shuts the process down so the orchestrator restarts it; default: readiness fails only.
   */
  onFatal?: (err: Error) => void;
  /** Fault tests only: a port awaited before each commit. */
  commitHook?: CommitHook;
  /** CONSUMER_* settings (docs/operator.md); default: their defaults. */
  consumerSafety?: ConsumerSafetySettings;
  /** Verifies liaison office tokens for the recipient preview (OFFICE_INTROSPECTION_*); unset: the preview refuses everyone. */
  officeIntrospection?: OfficeIntrospectionClient | null;
  /** REFUSAL_* / ANONYMOUS_REFUSAL_* settings (docs/operator.md); default: their defaults. */
  refusalAudit?: RefusalAuditSettings;
  /** The group member with its predecessor's removal already started (main.ts); default: made at bootstrap. */
  member?: GateMember;
}

/** policy-gate: the transactional decide-and-route consumer, hold releases and the reviewers' API. */
@Module({})
export class PolicyGateModule {
  static forRoot(deps: PolicyGateDeps): DynamicModule {
    return {
      module: PolicyGateModule,
      imports: [
        KafkaModule.forRoot(deps.kafka, 'policy-gate'),
        RefusalAuditModule.forService({ service: 'policy-gate', ...(deps.refusalAudit ? { settings: deps.refusalAudit } : {}) }),
      ],
      controllers: [DecisionsController, HoldsController, PreviewController],
      providers: [
        { provide: GATE_SETTINGS_TOKEN, useValue: deps.settings },
        { provide: GATE_POLICY, useValue: deps.policy },
        { provide: GATE_ON_FATAL, useValue: deps.onFatal ?? ((): void => undefined) },
        { provide: GATE_CONSUMER_SAFETY, useValue: deps.consumerSafety ?? DEFAULT_CONSUMER_SAFETY },
        ...(deps.commitHook ? [{ provide: GATE_COMMIT_HOOK, useValue: deps.commitHook }] : []),
        ...(deps.member ? [{ provide: GATE_MEMBER, useValue: deps.member }] : []),
        PolicyGateRuntime,
        { provide: GATE_OFFICE_INTROSPECTION, useValue: deps.officeIntrospection ?? null },
        { provide: CREDENTIAL_VERIFIER, useClass: GateCredentialVerifier },
      ],
    };
  }
}
