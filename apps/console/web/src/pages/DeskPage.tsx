import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  List,
  NativeSelect,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Session } from '../api.tsx';
import { NOTICE_TYPES } from '../codes.tsx';
import { openFeed, type FeedStatus } from '../feed.tsx';
import { useI18n, type MessageKey } from '../i18n.tsx';
import { HeaderRow } from '../ui.tsx';

interface Item {
  alertId: string;
  version: number;
  msgType: string;
  state: string;
  sender: string;
  noticeType: string;
  urgency: string;
  handlingCode?: string;
  headline: string | null;
  firstReceivedAt: string;
  updatedAt: string;
  seq: number;
  executionFlags: string[];
  noReshare: boolean;
  redactedGroups: string[];
  acknowledged: { version: number; at: string } | null;
}

interface Detail extends Item {
  alert: Record<string, unknown> | null;
  versions: {
    version: number;
    msgType: string;
    receivedAt: string;
    ruleId: string;
    policyVersion: string;
    redactedGroups: string[];
    executionFlags: string[];
    headline: string | null;
  }[];
}

export function DeskPage({ session }: { session: Session }) {
  const { t, date, code } = useI18n();
  const [items, setItems] = useState<Item[]>([]);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [q, setQ] = useState('');
  const [noticeType, setNoticeType] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');
  const [lastKind, setLastKind] = useState('Alert');

  const load = useCallback(async () => {
    const params = new URLSearchParams({ limit: '100', ...(q ? { q } : {}), ...(noticeType ? { noticeType } : {}) });
    setItems((await api<{ items: Item[] }>(session, `/api/agencies/${session.agency}/inbox?${params.toString()}`)).items);
  }, [session, q, noticeType]);

  useEffect(() => {
    void load().catch(() => undefined);
  }, [load]);

  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = openFeed(
      session,
      (e) => {
        setAnnounce(e.headline ?? e.alertId);
        setLastKind(e.msgType);
        // The inbox is the source of truth (filters, acknowledgement): reload it once a burst settles.
        clearTimeout(timer);
        timer = setTimeout(() => void loadRef.current().catch(() => undefined), 150);
      },
      setStatus,
    );
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [session]);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t('desk.title', { agency: session.agency ?? '' })}</Title>
        <Badge color={status === 'live' ? 'teal.9' : 'gray.8'} variant="filled" data-testid="feed-status" size="lg">
          {t(`feed.${status}` as MessageKey)}
        </Badge>
      </Group>
      <VisuallyHidden aria-live="polite" data-testid="feed-announce">
        {announce ? t('desk.arrived', { kind: code('msgType', lastKind), headline: announce }) : ''}
      </VisuallyHidden>
      <Group align="end">
        <TextInput label={t('desk.search')} value={q} onChange={(e) => setQ(e.currentTarget.value)} data-testid="filter-q" />
        <NativeSelect
          label={t('field.noticeType')}
          value={noticeType}
          onChange={(e) => setNoticeType(e.currentTarget.value)}
          data={[{ value: '', label: t('desk.allTypes') }, ...NOTICE_TYPES.map((n) => ({ value: n, label: code('notice', n) }))]}
          data-testid="filter-type"
        />
      </Group>
      <Table striped highlightOnHover data-testid="inbox">
        <HeaderRow columns={['col.headline', 'col.notice', 'col.sender', 'col.state', 'col.obligations', 'col.received', 'col.ack']} />
        <Table.Tbody>
          {items.map((i) => (
            <Table.Tr key={i.alertId} data-testid={`inbox-${i.alertId}`}>
              <Table.Td>
                <Anchor
                  component="button"
                  type="button"
                  c="blue.9"
                  fw={500}
                  onClick={() => setSelected(i.alertId)}
                  data-testid={`open-${i.alertId}`}
                >
                  {i.headline ?? i.alertId}
                </Anchor>
              </Table.Td>
              <Table.Td>{code('notice', i.noticeType)}</Table.Td>
              <Table.Td>{i.sender}</Table.Td>
              <Table.Td>
                <StateBadge state={i.state} msgType={i.msgType} />
              </Table.Td>
              <Table.Td>
                {i.redactedGroups.length + i.executionFlags.length + (i.noReshare ? 1 : 0) > 0 ? (
                  <Badge color="red.9">{t('desk.obligations')}</Badge>
                ) : (
                  '—'
                )}
              </Table.Td>
              <Table.Td>{date(i.updatedAt)}</Table.Td>
              <Table.Td>{i.acknowledged ? date(i.acknowledged.at) : t('desk.notAcknowledged')}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {items.length === 0 && <Text c="dimmed">{t('desk.empty')}</Text>}
      {selected && (
        // Keyed by the item's last change, so an update or cancel arriving live reloads the open view.
        <AlertView
          key={`${selected}-${items.find((i) => i.alertId === selected)?.updatedAt ?? ''}`}
          session={session}
          alertId={selected}
          onChanged={() => void load()}
          onClose={() => setSelected(null)}
        />
      )}
    </Stack>
  );
}

function StateBadge({ state, msgType }: { state: string; msgType: string }) {
  const { t } = useI18n();
  if (state === 'CANCELLED') return <Badge color="gray.8">{t('state.cancelled')}</Badge>;
  if (msgType === 'Update')
    return (
      <Badge color="yellow" c="dark">
        {t('state.updated')}
      </Badge>
    );
  return <Badge color="teal.9">{t('state.active')}</Badge>;
}

function AlertView({
  session,
  alertId,
  onChanged,
  onClose,
}: {
  session: Session;
  alertId: string;
  onChanged: () => void;
  onClose: () => void;
}) {
  const { t, date, code } = useI18n();
  const [d, setD] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setD(await api<Detail>(session, `/api/agencies/${session.agency}/inbox/${alertId}`));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [session, alertId]);
  useEffect(() => {
    void load();
  }, [load]);
  const ack = async () => {
    await api(session, `/api/agencies/${session.agency}/inbox/${alertId}/ack`, { method: 'POST' });
    await load();
    onChanged();
  };
  if (error)
    return (
      <Alert color="red" role="alert">
        {error}
      </Alert>
    );
  if (!d) return null;
  const handling = typeof d.alert?.['handlingCode'] === 'string' ? (d.alert['handlingCode'] as string) : null;
  const obligations = d.redactedGroups.length > 0 || d.executionFlags.length > 0 || d.noReshare || (handling !== null && handling !== 'H0');
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="alert-view-title" data-testid="alert-view">
      <Group justify="space-between">
        <Title order={3} id="alert-view-title">
          {d.headline ?? d.alertId}
        </Title>
        <Group>
          <StateBadge state={d.state} msgType={d.msgType} />
          <Button variant="outline" size="xs" onClick={onClose}>
            {t('desk.close')}
          </Button>
        </Group>
      </Group>
      {obligations && (
        <Alert color="red.9" variant="filled" mt="md" title={t('desk.obligationsTitle')} role="alert" data-testid="obligations">
          <List>
            {d.redactedGroups.map((g) => (
              <List.Item key={g}>{t('desk.redacted', { group: code('group', g) })}</List.Item>
            ))}
            {d.executionFlags.map((f) => (
              <List.Item key={f}>{code('flag', f)}</List.Item>
            ))}
            {d.noReshare && <List.Item>{t('flag.noReshare')}</List.Item>}
            {handling && handling !== 'H0' && <List.Item>{code('handlingHelp', handling)}</List.Item>}
          </List>
        </Alert>
      )}
      {d.state === 'CANCELLED' && (
        <Alert color="gray" mt="md" data-testid="cancelled">
          {t('desk.cancelledNote')}
        </Alert>
      )}
      <Text mt="md">{typeof d.alert?.['description'] === 'string' ? (d.alert['description'] as string) : ''}</Text>
      <Group mt="md">
        {d.acknowledged ? (
          <Text data-testid="acknowledged">
            {t('desk.acknowledgedAt', { version: d.acknowledged.version, at: date(d.acknowledged.at) })}
          </Text>
        ) : (
          <Button onClick={() => void ack()} data-testid="acknowledge">
            {t('desk.acknowledge')}
          </Button>
        )}
      </Group>
      <Title order={4} mt="md">
        {t('desk.history')}
      </Title>
      <Table>
        <HeaderRow columns={['col.version', 'col.kind', 'col.received', 'col.rule', 'col.headline']} />
        <Table.Tbody>
          {d.versions.map((v) => (
            <Table.Tr key={`${v.version}-${v.receivedAt}`}>
              <Table.Td>{v.version}</Table.Td>
              <Table.Td>{code('msgType', v.msgType)}</Table.Td>
              <Table.Td>{date(v.receivedAt)}</Table.Td>
              <Table.Td>
                {v.ruleId} ({v.policyVersion})
              </Table.Td>
              <Table.Td>{v.headline ?? '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}
