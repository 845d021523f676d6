// Small pieces every console page repeats: a table's header row, a form's error, a date range.
import { Alert, Table, TextInput } from '@mantine/core';
import { useI18n, type MessageKey } from './i18n.tsx';

/** A table header whose cells are catalogue labels, in the user's language. */
export function HeaderRow({ columns }: { columns: readonly MessageKey[] }) {
  const { t } = useI18n();
  return (
    <Table.Thead>
      <Table.Tr>
        {columns.map((key) => (
          <Table.Th key={key}>{t(key)}</Table.Th>
        ))}
      </Table.Tr>
    </Table.Thead>
  );
}

/** The error of the last action, announced to screen readers; nothing when there is none. */
export function ErrorAlert({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert">
      {error}
    </Alert>
  );
}

/** The since/until date inputs of the compliance queries (yyyy-mm-dd, as the browser's date input gives them). */
export function DateRange(props: { since: string; until: string; onSince: (v: string) => void; onUntil: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <>
      <TextInput type="date" label={t('compliance.since')} value={props.since} onChange={(e) => props.onSince(e.currentTarget.value)} />
      <TextInput type="date" label={t('compliance.until')} value={props.until} onChange={(e) => props.onUntil(e.currentTarget.value)} />
    </>
  );
}
