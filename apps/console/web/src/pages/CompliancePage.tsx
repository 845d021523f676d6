import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  NativeSelect,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, api, type Session } from '../api.tsx';
import { BarChart } from '../charts.tsx';
import { useI18n } from '../i18n.tsx';
import { HeaderRow, ErrorAlert, DateRange } from '../ui.tsx';

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const daysAgo = (n: number) => isoDay(new Date(Date.now() - n * 86_400_000));
const tomorrow = () => isoDay(new Date(Date.now() + 86_400_000));

function useError(): [string | null, (e: unknown) => void, () => void] {
  const [error, setError] = useState<string | null>(null);
  return [
    error,
    (e) => setError(e instanceof ApiError ? `${e.status}: ${e.message}` : e instanceof Error ? e.message : String(e)),
    () => setError(null),
  ];
}

export function CompliancePage({ session }: { session: Session }) {
  const { t } = useI18n();
  return (
    <Stack>
      <Title order={2}>{t('compliance.title')}</Title>
      <Tabs defaultValue="trail" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="trail" data-testid="tab-trail">
            {t('compliance.trail')}
          </Tabs.Tab>
          <Tabs.Tab value="verify" data-testid="tab-verify">
            {t('compliance.verify')}
          </Tabs.Tab>
          <Tabs.Tab value="export" data-testid="tab-export">
            {t('compliance.export')}
          </Tabs.Tab>
          <Tabs.Tab value="whatif" data-testid="tab-whatif">
            {t('compliance.whatIf')}
          </Tabs.Tab>
          <Tabs.Tab value="metrics" data-testid="tab-metrics">
            {t('compliance.metrics')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="trail" pt="md">
          <Trail session={session} />
        </Tabs.Panel>
        <Tabs.Panel value="verify" pt="md">
          <Verify session={session} />
        </Tabs.Panel>
        <Tabs.Panel value="export" pt="md">
          <Export session={session} />
        </Tabs.Panel>
        <Tabs.Panel value="whatif" pt="md">
          <WhatIf session={session} />
        </Tabs.Panel>
        <Tabs.Panel value="metrics" pt="md">
          <Metrics session={session} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

interface TrailRecipient {
  agency: string;
  alertVersion: number | null;
  outcome: string;
  ruleId: string;
  policyVersion: string | null;
  decidedAt: string;
  withheld: { what: string; why: string } | null;
  deliveredAt: string | null;
  acknowledgedAt: string | null;
}

function Trail({ session }: { session: Session }) {
  const { t, date, code } = useI18n();
  const [id, setId] = useState('');
  const [trail, setTrail] = useState<{
    recipients: TrailRecipient[];
    events: { type: string; occurredAt: string; actor: string | null; service: string }[];
  } | null>(null);
  const [error, fail, clear] = useError();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    clear();
    try {
      setTrail(await api(session, `/api/audit/compliance/alerts/${encodeURIComponent(id.trim())}/trail`));
    } catch (err) {
      setTrail(null);
      fail(err);
    }
  };
  return (
    <Stack>
      <form onSubmit={(e) => void submit(e)}>
        <Group align="end">
          <TextInput
            label={t('compliance.alertId')}
            value={id}
            onChange={(e) => setId(e.currentTarget.value)}
            w={400}
            data-testid="trail-id"
          />
          <Button type="submit" data-testid="trail-submit">
            {t('compliance.show')}
          </Button>
        </Group>
      </form>
      <ErrorAlert error={error} />
      {trail && (
        <>
          <Table striped data-testid="trail">
            <HeaderRow
              columns={['col.agency', 'col.version', 'col.outcome', 'col.rule', 'col.policy', 'col.withheld', 'col.delivered', 'col.ack']}
            />
            <Table.Tbody>
              {trail.recipients.map((r) => (
                <Table.Tr key={`${r.agency}-${r.alertVersion}`} data-testid={`trail-${r.agency}-${r.alertVersion ?? 0}`}>
                  <Table.Td>{r.agency}</Table.Td>
                  <Table.Td>{r.alertVersion ?? '—'}</Table.Td>
                  <Table.Td>{code('outcome', r.outcome)}</Table.Td>
                  <Table.Td>{r.ruleId}</Table.Td>
                  <Table.Td>{r.policyVersion ?? '—'}</Table.Td>
                  <Table.Td>{r.withheld ? `${r.withheld.what} (${r.withheld.why})` : '—'}</Table.Td>
                  <Table.Td>{date(r.deliveredAt)}</Table.Td>
                  <Table.Td>{date(r.acknowledgedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Title order={3} size="h5">
            {t('compliance.events')}
          </Title>
          <Table fz="sm">
            <Table.Tbody>
              {trail.events.map((ev, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{date(ev.occurredAt)}</Table.Td>
                  <Table.Td>{ev.type}</Table.Td>
                  <Table.Td>{ev.service}</Table.Td>
                  <Table.Td>{ev.actor ?? '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Stack>
  );
}

function Verify({ session }: { session: Session }) {
  const { t, num } = useI18n();
  const [result, setResult] = useState<{
    ok: boolean;
    rows: number;
    checkpoints: number;
    checkpointsVerified: number;
    unsignedTail: number;
    firstBreak: unknown;
  } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, fail, clear] = useError();
  const run = async () => {
    setBusy(true);
    clear();
    try {
      setResult(await api(session, '/api/audit/compliance/verify'));
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack>
      <Button onClick={() => void run()} loading={busy} w="fit-content" data-testid="verify">
        {t('compliance.runVerify')}
      </Button>
      <ErrorAlert error={error} />
      {result && (
        <Alert
          variant="filled"
          color={result.ok ? 'teal.9' : 'red.9'}
          role="status"
          title={result.ok ? t('verify.ok') : t('verify.broken')}
          data-testid="verify-result"
        >
          <Text>
            {t('verify.summary', {
              rows: num(result.rows),
              cps: num(result.checkpointsVerified),
              total: num(result.checkpoints),
              tail: num(result.unsignedTail),
            })}
          </Text>
          {!result.ok && <Code block>{JSON.stringify(result.firstBreak, null, 2)}</Code>}
        </Alert>
      )}
    </Stack>
  );
}

function Export({ session }: { session: Session }) {
  const { t, num } = useI18n();
  const [agency, setAgency] = useState('');
  const [since, setSince] = useState(daysAgo(30));
  const [until, setUntil] = useState(tomorrow());
  const [format, setFormat] = useState('ndjson');
  const [progress, setProgress] = useState<{ rows: number; total: number } | null>(null);
  const [link, setLink] = useState<{ href: string; name: string } | null>(null);
  const [error, fail, clear] = useError();
  const run = async (e: FormEvent) => {
    e.preventDefault();
    clear();
    setLink(null);
    try {
      const params = new URLSearchParams({
        agency: agency.trim(),
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        format,
      });
      const res = await fetch(`/api/audit/compliance/export?${params.toString()}`, {
        headers: { authorization: `Bearer ${session.token}` },
      });
      if (!res.ok || !res.body) throw new ApiError(res.status, (await res.json().catch(() => ({}))) as ApiError['problem']);
      const total = Number(res.headers.get('x-total-count') ?? 0);
      const reader = res.body.getReader();
      const parts: Uint8Array[] = [];
      let rows = 0;
      setProgress({ rows, total });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parts.push(value);
        for (const b of value) if (b === 10) rows++;
        setProgress({ rows: format === 'csv' ? Math.max(0, rows - 1) : rows, total });
      }
      const blob = new Blob(parts as BlobPart[], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
      setLink({ href: URL.createObjectURL(blob), name: `${agency.trim()}-audit.${format}` });
    } catch (err) {
      fail(err);
    }
  };
  return (
    <form onSubmit={(e) => void run(e)}>
      <Stack>
        <SimpleGrid cols={{ base: 1, md: 4 }}>
          <TextInput
            label={t('col.agency')}
            value={agency}
            onChange={(e) => setAgency(e.currentTarget.value)}
            required
            data-testid="export-agency"
          />
          <DateRange since={since} until={until} onSince={setSince} onUntil={setUntil} />
          <NativeSelect
            label={t('compliance.format')}
            value={format}
            onChange={(e) => setFormat(e.currentTarget.value)}
            data={['ndjson', 'csv']}
          />
        </SimpleGrid>
        <Button type="submit" w="fit-content" data-testid="export">
          {t('compliance.runExport')}
        </Button>
        <ErrorAlert error={error} />
        {progress && (
          <Stack gap={4} data-testid="export-progress">
            <Progress
              value={progress.total > 0 ? Math.min(100, (100 * progress.rows) / progress.total) : link ? 100 : 0}
              aria-label={t('compliance.exportProgress')}
            />
            <Text size="sm">{t('compliance.exportRows', { rows: num(progress.rows), total: num(progress.total) })}</Text>
          </Stack>
        )}
        {link && (
          <a href={link.href} download={link.name} data-testid="export-download">
            {t('compliance.download', { name: link.name })}
          </a>
        )}
      </Stack>
    </form>
  );
}

interface WhatIfResult {
  candidatePolicyVersion: string;
  alertsEvaluated: number;
  changes: {
    alertId: string;
    alertVersion: number;
    agency: string;
    old: { outcome: string; ruleId: string; policyVersion: string | null } | null;
    new: { outcome: string; ruleId: string };
  }[];
}

function WhatIf({ session }: { session: Session }) {
  const { t, code, num } = useI18n();
  const [policy, setPolicy] = useState('');
  const [since, setSince] = useState(daysAgo(30));
  const [until, setUntil] = useState(tomorrow());
  const [result, setResult] = useState<WhatIfResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, fail, clear] = useError();
  const run = async (e: FormEvent) => {
    e.preventDefault();
    clear();
    setBusy(true);
    try {
      setResult(
        await api(session, '/api/audit/compliance/what-if', {
          method: 'POST',
          body: { policy: policy.trim(), since: new Date(since).toISOString(), until: new Date(until).toISOString() },
        }),
      );
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void run(e)}>
      <Stack>
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          <TextInput
            label={t('compliance.candidate')}
            description={t('compliance.candidateHelp')}
            value={policy}
            onChange={(e) => setPolicy(e.currentTarget.value)}
            required
            data-testid="whatif-policy"
          />
          <DateRange since={since} until={until} onSince={setSince} onUntil={setUntil} />
        </SimpleGrid>
        <Button type="submit" loading={busy} w="fit-content" data-testid="whatif-run">
          {t('compliance.compare')}
        </Button>
        <ErrorAlert error={error} />
        {result && (
          <>
            <Text data-testid="whatif-summary">
              {t('whatIf.summary', {
                n: num(result.changes.length),
                alerts: num(result.alertsEvaluated),
                version: result.candidatePolicyVersion,
              })}
            </Text>
            <Table striped data-testid="whatif-table">
              <HeaderRow columns={['compliance.alertId', 'col.agency', 'whatIf.current', 'whatIf.candidate']} />
              <Table.Tbody>
                {result.changes.map((c) => (
                  <Table.Tr key={`${c.alertId}-${c.alertVersion}-${c.agency}`}>
                    <Table.Td>
                      <Code>{c.alertId.slice(0, 8)}</Code> v{c.alertVersion}
                    </Table.Td>
                    <Table.Td>{c.agency}</Table.Td>
                    <Table.Td>{c.old ? `${code('outcome', c.old.outcome)} (${c.old.ruleId})` : '—'}</Table.Td>
                    <Table.Td>
                      <Badge color="blue.9">{code('outcome', c.new.outcome)}</Badge> ({c.new.ruleId})
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </>
        )}
      </Stack>
    </form>
  );
}

interface MetricsResult {
  alertsOverTime: { day: string; region: string; noticeType: string; alerts: number }[];
  timeToAcknowledge: { agency: string; acknowledged: number; medianSeconds: number; p90Seconds: number }[];
  deliveries: { agency: string; delivered: number; acknowledged: number }[];
  denialsByRule: { ruleId: string; denials: number }[];
}

function sumBy<T>(rows: T[], key: (r: T) => string, value: (r: T) => number): { label: string; values: number[] }[] {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + value(r));
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, v]) => ({ label, values: [v] }));
}

function Metrics({ session }: { session: Session }) {
  const { t, code } = useI18n();
  const [since, setSince] = useState(daysAgo(30));
  const [until, setUntil] = useState(tomorrow());
  const [m, setM] = useState<MetricsResult | null>(null);
  const [error, fail, clear] = useError();
  const load = async () => {
    clear();
    try {
      const params = new URLSearchParams({ since: new Date(since).toISOString(), until: new Date(until).toISOString() });
      setM(await api(session, `/api/audit/compliance/metrics?${params.toString()}`));
    } catch (e) {
      fail(e);
    }
  };
  useEffect(() => {
    void load();
    // Loaded once on opening; the button reloads with new dates.
  }, []);
  return (
    <Stack>
      <Group align="end">
        <DateRange since={since} until={until} onSince={setSince} onUntil={setUntil} />
        <Button onClick={() => void load()} data-testid="metrics-load">
          {t('compliance.show')}
        </Button>
      </Group>
      <ErrorAlert error={error} />
      {m && (
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <BarChart
            testId="chart-days"
            title={t('metrics.byDay')}
            series={[t('metrics.alerts')]}
            bars={sumBy(
              m.alertsOverTime,
              (r) => r.day,
              (r) => r.alerts,
            )}
          />
          <BarChart
            testId="chart-regions"
            title={t('metrics.byRegion')}
            series={[t('metrics.alerts')]}
            bars={sumBy(
              m.alertsOverTime,
              (r) => code('region', r.region),
              (r) => r.alerts,
            )}
          />
          <BarChart
            testId="chart-types"
            title={t('metrics.byType')}
            series={[t('metrics.alerts')]}
            bars={sumBy(
              m.alertsOverTime,
              (r) => code('notice', r.noticeType),
              (r) => r.alerts,
            )}
          />
          <BarChart
            testId="chart-ack"
            title={t('metrics.timeToAck')}
            series={[t('metrics.median'), t('metrics.p90')]}
            unit={t('metrics.seconds')}
            bars={m.timeToAcknowledge.map((a) => ({ label: a.agency, values: [a.medianSeconds, a.p90Seconds] }))}
          />
          <BarChart
            testId="chart-acked"
            title={t('metrics.ackRate')}
            series={[t('metrics.delivered'), t('metrics.acknowledged')]}
            bars={m.deliveries.map((a) => ({ label: a.agency, values: [a.delivered, a.acknowledged] }))}
          />
          <BarChart
            testId="chart-denials"
            title={t('metrics.denials')}
            series={[t('metrics.denied')]}
            bars={m.denialsByRule.map((d) => ({ label: d.ruleId, values: [d.denials] }))}
          />
        </SimpleGrid>
      )}
    </Stack>
  );
}
