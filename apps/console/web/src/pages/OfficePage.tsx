import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  NativeSelect,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, api, type FieldProblem, type Session } from '../api.tsx';
import * as C from '../codes.tsx';
import { useI18n, type MessageKey } from '../i18n.tsx';
import { HeaderRow, ErrorAlert } from '../ui.tsx';

interface Draft {
  noticeType: string;
  status: string;
  scope: string;
  headline: string;
  description: string;
  urgency: string;
  severity: string;
  certainty: string;
  tlp: string;
  handlingCode: string;
  sourceReliability: string;
  informationAccuracy: number;
  purposes: string[];
  mode: string;
  regions: string;
  agencies: string;
  areaDescription: string;
  areaCountries: string;
  expiresInDays: number;
  familyName: string;
  forenames: string;
  nationalities: string;
}

const EMPTY: Draft = {
  noticeType: 'RED',
  status: 'Actual',
  scope: 'Restricted',
  headline: '',
  description: '',
  urgency: 'Immediate',
  severity: 'Severe',
  certainty: 'Likely',
  tlp: 'AMBER',
  handlingCode: 'H1',
  sourceReliability: 'B',
  informationAccuracy: 2,
  purposes: ['ARREST_EXTRADITION'],
  mode: 'ALL',
  regions: '',
  agencies: '',
  areaDescription: '',
  areaCountries: '',
  expiresInDays: 7,
  familyName: '',
  forenames: '',
  nationalities: '',
};

/** The draft as the publisher's JSON body (POST /alerts). */
export function bodyOf(d: Draft): Record<string, unknown> {
  const subject = d.familyName || d.forenames || d.nationalities;
  return {
    status: d.status,
    scope: d.scope,
    noticeType: d.noticeType,
    purposes: d.purposes,
    headline: d.headline,
    description: d.description,
    urgency: d.urgency,
    severity: d.severity,
    certainty: d.certainty,
    tlp: d.tlp,
    handlingCode: d.handlingCode,
    sourceReliability: d.sourceReliability,
    informationAccuracy: d.informationAccuracy,
    addressing: {
      mode: d.mode,
      ...(d.mode === 'REGIONS' ? { regions: C.splitList(d.regions) } : {}),
      ...(d.mode === 'EXPLICIT' ? { agencies: C.splitList(d.agencies) } : {}),
    },
    expires: new Date(Date.now() + d.expiresInDays * 86_400_000).toISOString(),
    area: { description: d.areaDescription, countries: C.splitList(d.areaCountries) },
    ...(subject
      ? { subject: { familyName: d.familyName || null, forenames: d.forenames || null, nationalities: C.splitList(d.nationalities) } }
      : {}),
  };
}

/** Which JSON pointers each form field shows the errors of. */
const POINTERS: Partial<Record<keyof Draft, string[]>> = {
  noticeType: ['/noticeType'],
  status: ['/status', '/exerciseId'],
  scope: ['/scope'],
  headline: ['/headline'],
  description: ['/description'],
  urgency: ['/urgency'],
  severity: ['/severity'],
  certainty: ['/certainty'],
  tlp: ['/tlp'],
  handlingCode: ['/handlingCode'],
  sourceReliability: ['/sourceReliability'],
  informationAccuracy: ['/informationAccuracy'],
  purposes: ['/purposes'],
  mode: ['/addressing', '/addressing/mode'],
  regions: ['/addressing/regions'],
  agencies: ['/addressing/agencies'],
  areaDescription: ['/area', '/area/description'],
  areaCountries: ['/area/countries'],
  expiresInDays: ['/expires'],
  familyName: ['/subject', '/subject/familyName'],
  forenames: ['/subject/forenames'],
  nationalities: ['/subject/nationalities'],
};

function errorsAt(errors: FieldProblem[], field: keyof Draft, say: (e: FieldProblem) => string): string | undefined {
  const ptrs = POINTERS[field] ?? [];
  const mine = errors.filter((e) =>
    ptrs.some((p) => e.field === p || (e.field.startsWith(`${p}/`) && !Object.values(POINTERS).flat().includes(e.field))),
  );
  return mine.length > 0 ? mine.map(say).join(' ') : undefined;
}

interface Preview {
  sender: string;
  policyVersion: string;
  count: number;
  recipients: { agency: string; outcome: string; ruleId: string; redactedGroups: string[]; executionFlags: string[]; noReshare: boolean }[];
  held: { agency: string; ruleId: string }[];
  denied: { agency: string; ruleId: string }[];
}

type RecipientState = 'acknowledged' | 'delivered' | 'pending' | 'held' | 'denied';

/** The audit logger's answer for one of the office's alerts (GET /office/alerts/recipients). */
interface AlertRecipients {
  alertId: string;
  counts: Record<RecipientState, number> & { agencies: number };
  recipients: {
    agency: string;
    version: number | null;
    outcome: string;
    ruleId: string;
    state: RecipientState;
    deliveredAt: string | null;
    acknowledgedAt: string | null;
    acknowledgedVersion: number | null;
  }[];
}

const STATE_COLOR: Record<RecipientState, string> = {
  acknowledged: 'teal.9',
  delivered: 'blue.9',
  pending: 'gray.8',
  held: 'orange.9',
  denied: 'red.9',
};

interface AlertRow {
  alertId: string;
  state: string;
  latestVersion: number;
  noticeType: string;
  headline: string;
  updatedAt: string;
}

export function OfficePage({ session }: { session: Session }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<string | null>('compose');
  const [editing, setEditing] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  return (
    <Stack>
      <Title order={2}>{t('office.title')}</Title>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="compose" data-testid="tab-compose">
            {editing ? t('office.updateTitle') : t('office.compose')}
          </Tabs.Tab>
          <Tabs.Tab value="alerts" data-testid="tab-alerts">
            {t('office.myAlerts')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="compose" pt="md">
          <Compose
            session={session}
            editing={editing}
            onDone={() => {
              setEditing(null);
              setReload((n) => n + 1);
              setTab('alerts');
            }}
          />
        </Tabs.Panel>
        <Tabs.Panel value="alerts" pt="md">
          <MyAlerts
            session={session}
            reload={reload}
            onUpdate={(id) => {
              setEditing(id);
              setTab('compose');
            }}
          />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function Compose({ session, editing, onDone }: { session: Session; editing: string | null; onDone: () => void }) {
  const { t, code, fieldError } = useI18n();
  const [d, setD] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<FieldProblem[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const err = (k: keyof Draft) => errorsAt(errors, k, fieldError);
  const select = (k: keyof Draft, values: string[], prefix: string) => (
    <NativeSelect
      label={t(`field.${k}` as MessageKey)}
      value={String(d[k])}
      onChange={(e) => set(k, e.currentTarget.value as never)}
      data={values.map((v) => ({ value: v, label: code(prefix, v) }))}
      error={err(k)}
      data-testid={`field-${k}`}
    />
  );
  const text = (k: keyof Draft, help?: MessageKey) => (
    <TextInput
      label={t(`field.${k}` as MessageKey)}
      {...(help ? { description: t(help) } : {})}
      value={String(d[k])}
      onChange={(e) => set(k, e.currentTarget.value as never)}
      error={err(k)}
      data-testid={`field-${k}`}
    />
  );
  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.problem.errors) {
      setErrors(e.problem.errors);
      setMessage({ ok: false, text: t('office.fixErrors', { n: e.problem.errors.length }) });
    } else setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
  };
  const doPreview = async () => {
    setBusy(true);
    setMessage(null);
    try {
      setPreview(await api<Preview>(session, '/api/gate/preview', { method: 'POST', body: bodyOf(d) }));
      setErrors([]);
    } catch (e) {
      setPreview(null);
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const publish = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const path = editing ? `/api/publisher/alerts/${editing}/updates` : '/api/publisher/alerts';
      const r = await api<{ alertId: string; version: number }>(session, path, {
        method: 'POST',
        body: bodyOf(d),
        headers: { 'idempotency-key': crypto.randomUUID() },
      });
      setErrors([]);
      setMessage({ ok: true, text: t('office.published', { id: r.alertId, version: r.version }) });
      setD(EMPTY);
      setPreview(null);
      onDone();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void publish(e)} noValidate aria-label={t('office.compose')}>
      <Stack>
        {editing && <Alert color="blue">{t('office.updating', { id: editing })}</Alert>}
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {select('noticeType', C.NOTICE_TYPES, 'notice')}
          {select('status', C.STATUSES, 'status')}
          {select('scope', C.SCOPES, 'scope')}
        </SimpleGrid>
        {text('headline')}
        <Textarea
          label={t('field.description')}
          value={d.description}
          onChange={(e) => set('description', e.currentTarget.value)}
          error={err('description')}
          autosize
          minRows={3}
          data-testid="field-description"
        />
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {select('urgency', C.URGENCIES, 'urgency')}
          {select('severity', C.SEVERITIES, 'severity')}
          {select('certainty', C.CERTAINTIES, 'certainty')}
          {select('tlp', C.TLPS, 'tlp')}
          {select('handlingCode', C.HANDLING_CODES, 'handling')}
          {select('sourceReliability', C.SOURCE_RELIABILITIES, 'reliability')}
          <NumberInput
            label={t('field.informationAccuracy')}
            min={1}
            max={4}
            value={d.informationAccuracy}
            onChange={(v) => set('informationAccuracy', Number(v))}
            error={err('informationAccuracy')}
          />
          <NumberInput
            label={t('field.expiresInDays')}
            min={1}
            max={3650}
            value={d.expiresInDays}
            onChange={(v) => set('expiresInDays', Number(v))}
            error={err('expiresInDays')}
          />
        </SimpleGrid>
        <Checkbox.Group label={t('field.purposes')} value={d.purposes} onChange={(v) => set('purposes', v)} error={err('purposes')}>
          <Group mt="xs">
            {C.PURPOSES.map((p) => (
              <Checkbox key={p} value={p} label={code('purpose', p)} />
            ))}
          </Group>
        </Checkbox.Group>
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {select('mode', C.ADDRESSING_MODES, 'mode')}
          {d.mode === 'REGIONS' && text('regions', 'help.regions')}
          {d.mode === 'EXPLICIT' && text('agencies', 'help.agencies')}
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          {text('areaDescription')}
          {text('areaCountries', 'help.countries')}
        </SimpleGrid>
        <Title order={3} size="h5">
          {t('office.subject')}
        </Title>
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {text('familyName')}
          {text('forenames')}
          {text('nationalities', 'help.countries')}
        </SimpleGrid>
        {message && (
          <Alert color={message.ok ? 'green' : 'red'} role={message.ok ? 'status' : 'alert'} data-testid="compose-message">
            {message.text}
          </Alert>
        )}
        <Group>
          <Button variant="outline" onClick={() => void doPreview()} loading={busy} data-testid="preview">
            {t('office.preview')}
          </Button>
          <Button type="submit" loading={busy} data-testid="publish">
            {editing ? t('office.publishUpdate') : t('office.publish')}
          </Button>
        </Group>
        {preview && <PreviewTable preview={preview} />}
      </Stack>
    </form>
  );
}

function PreviewTable({ preview }: { preview: Preview }) {
  const { t, code } = useI18n();
  return (
    <Paper withBorder p="md" data-testid="preview-result" aria-live="polite">
      <Title order={3} size="h4">
        {t('preview.title', { n: preview.count, version: preview.policyVersion })}
      </Title>
      <Table striped mt="sm">
        <HeaderRow columns={['col.agency', 'col.outcome', 'col.rule', 'col.redactions', 'col.flags']} />
        <Table.Tbody>
          {preview.recipients.map((r) => (
            <Table.Tr key={r.agency} data-testid={`preview-recipient-${r.agency}`}>
              <Table.Td>{r.agency}</Table.Td>
              <Table.Td>{code('outcome', r.outcome)}</Table.Td>
              <Table.Td>{r.ruleId}</Table.Td>
              <Table.Td>{r.redactedGroups.map((g) => code('group', g)).join(', ') || '—'}</Table.Td>
              <Table.Td>
                {[...r.executionFlags.map((f) => code('flag', f)), ...(r.noReshare ? [t('flag.noReshare')] : [])].join(', ') || '—'}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {preview.held.length > 0 && (
        <Text mt="sm">{t('preview.held', { list: preview.held.map((h) => `${h.agency} (${h.ruleId})`).join(', ') })}</Text>
      )}
      <Title order={4} size="h5" mt="md">
        {t('preview.denied', { n: preview.denied.length })}
      </Title>
      <Text size="sm" data-testid="preview-denied">
        {preview.denied.map((x) => `${x.agency} — ${x.ruleId}`).join(' · ') || '—'}
      </Text>
    </Paper>
  );
}

function MyAlerts({ session, reload, onUpdate }: { session: Session; reload: number; onUpdate: (id: string) => void }) {
  const { t, date, code } = useI18n();
  const [items, setItems] = useState<AlertRow[]>([]);
  const [delivery, setDelivery] = useState<Map<string, AlertRecipients>>(new Map());
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const listed = (await api<{ items: AlertRow[] }>(session, '/api/publisher/alerts?limit=100')).items;
      setItems(listed);
      // Delivery and acknowledgement come from the audit ledger, for this office's alerts only.
      if (listed.length > 0) {
        const ids = listed.map((a) => a.alertId).join(',');
        const r = await api<{ items: AlertRecipients[] }>(session, `/api/audit/office/alerts/recipients?ids=${ids}`);
        setDelivery(new Map(r.items.map((x) => [x.alertId, x])));
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [session]);
  useEffect(() => {
    void load();
  }, [load, reload]);
  const cancel = async (id: string) => {
    try {
      await api(session, `/api/publisher/alerts/${id}/cancel`, {
        method: 'POST',
        body: { note: 'cancelled from the console' },
        headers: { 'idempotency-key': crypto.randomUUID() },
      });
      await load();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Stack>
      <ErrorAlert error={error} />
      <Table striped highlightOnHover data-testid="my-alerts">
        <HeaderRow
          columns={['col.headline', 'col.notice', 'col.state', 'col.version', 'col.updated', 'office.recipients', 'col.actions']}
        />
        <Table.Tbody>
          {items.flatMap((a) => [
            <Table.Tr key={a.alertId} data-testid={`my-alert-${a.alertId}`}>
              <Table.Td>{a.headline}</Table.Td>
              <Table.Td>{code('notice', a.noticeType)}</Table.Td>
              <Table.Td>
                <Badge color={a.state === 'cancelled' ? 'gray.8' : 'teal.9'}>
                  {t(a.state === 'cancelled' ? 'state.cancelled' : 'state.active')}
                </Badge>
              </Table.Td>
              <Table.Td>{a.latestVersion}</Table.Td>
              <Table.Td>{date(a.updatedAt)}</Table.Td>
              <Table.Td data-testid={`delivery-${a.alertId}`}>
                <DeliveryCounts status={delivery.get(a.alertId)} />
              </Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="outline"
                  color="blue.9"
                  mb={4}
                  onClick={() => setOpen(open === a.alertId ? null : a.alertId)}
                  aria-expanded={open === a.alertId}
                  aria-label={`${t(open === a.alertId ? 'office.hideDelivery' : 'office.showDelivery')}: ${a.headline}`}
                  data-testid={`show-delivery-${a.alertId}`}
                >
                  {t(open === a.alertId ? 'office.hideDelivery' : 'office.showDelivery')}
                </Button>
                {a.state !== 'cancelled' && (
                  <Group gap="xs">
                    <Button
                      size="xs"
                      variant="outline"
                      color="blue.9"
                      onClick={() => onUpdate(a.alertId)}
                      aria-label={`${t('office.update')}: ${a.headline}`}
                    >
                      {t('office.update')}
                    </Button>
                    <Button
                      size="xs"
                      color="red.9"
                      variant="outline"
                      onClick={() => void cancel(a.alertId)}
                      aria-label={`${t('office.cancel')}: ${a.headline}`}
                      data-testid={`cancel-${a.alertId}`}
                    >
                      {t('office.cancel')}
                    </Button>
                  </Group>
                )}
              </Table.Td>
            </Table.Tr>,
            ...(open === a.alertId
              ? [
                  <Table.Tr key={`${a.alertId}-delivery`}>
                    <Table.Td colSpan={7}>
                      <DeliveryDetail alert={a} status={delivery.get(a.alertId)} />
                    </Table.Td>
                  </Table.Tr>,
                ]
              : []),
          ])}
        </Table.Tbody>
      </Table>
      {items.length === 0 && <Text c="dimmed">{t('office.none')}</Text>}
    </Stack>
  );
}

function DeliveryCounts({ status }: { status: AlertRecipients | undefined }) {
  const { t } = useI18n();
  if (!status || status.counts.agencies === 0) return <Text size="sm">{t('office.recipientsPending')}</Text>;
  const c = status.counts;
  return (
    <Text size="sm">
      {t('office.recipientCounts', {
        received: c.delivered + c.acknowledged,
        agencies: c.agencies - c.denied,
        acknowledged: c.acknowledged,
        held: c.held,
        denied: c.denied,
      })}
    </Text>
  );
}

/** Per recipient agency: where the alert stands (delivered, acknowledged at, held, denied by which rule). */
function DeliveryDetail({ alert, status }: { alert: AlertRow; status: AlertRecipients | undefined }) {
  const { t, date, code } = useI18n();
  return (
    <Paper withBorder p="sm" data-testid={`delivery-detail-${alert.alertId}`}>
      <Title order={3} size="h5">
        {t('office.deliveryTitle', { headline: alert.headline })}
      </Title>
      {!status || status.recipients.length === 0 ? (
        <Text size="sm">{t('office.recipientsPending')}</Text>
      ) : (
        <Table mt="xs">
          <HeaderRow columns={['col.agency', 'col.state', 'col.version', 'col.outcome', 'col.rule', 'col.delivered', 'col.ackAt']} />
          <Table.Tbody>
            {status.recipients.map((r) => (
              <Table.Tr key={r.agency} data-testid={`recipient-${alert.alertId}-${r.agency}`}>
                <Table.Td>{r.agency}</Table.Td>
                <Table.Td>
                  <Badge color={STATE_COLOR[r.state]}>{t(`recipient.${r.state}` as MessageKey)}</Badge>
                </Table.Td>
                <Table.Td>{r.version ?? '—'}</Table.Td>
                <Table.Td>{code('outcome', r.outcome)}</Table.Td>
                <Table.Td>{r.ruleId}</Table.Td>
                <Table.Td>{date(r.deliveredAt)}</Table.Td>
                <Table.Td>
                  {date(r.acknowledgedAt)}
                  {r.acknowledgedAt && r.acknowledgedVersion !== r.version ? ` (v${r.acknowledgedVersion ?? '?'})` : ''}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}
